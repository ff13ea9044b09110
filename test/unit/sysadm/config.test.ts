// [sysadm]: its listeners fall under the loopback rule by their own keys; the TLS pair is made once, kept, or taken from the config.
import { expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../src/config/load.ts";
import { assertSafeListen } from "../../../src/core/auth/index.ts";
import { ensureSysadmTls } from "../../../src/core/fronts/sysadm-tls.ts";
import { ConfigError } from "../../../src/errors.ts";

const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  return null;
};

test("a non-loopback sysadm listener with auth off is refused, naming listen_ws or listen_rest", () => {
  for (const key of ["listen_ws", "listen_rest"]) {
    const e = errorOf(() => assertSafeListen(parseConfig(`[sysadm]\n${key} = "0.0.0.0:12199"`, "t")));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e?.message).toContain(`[sysadm] ${key} 0.0.0.0:12199 is not a loopback address`);
  }
  expect(() =>
    assertSafeListen(parseConfig('[sysadm]\nlisten_ws = "0.0.0.0:12199"\nenabled = false', "t")),
  ).not.toThrow();
});

test("the self-signed pair is made once (key 0600) and kept; a configured pair is used as it is; half a pair is refused", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sadcfg-"));
  const config = parseConfig(`data_dir = "${dataDir}"`, "t");
  const files = ensureSysadmTls(config);
  expect(files).toEqual({
    certFile: `${dataDir}/sysadm/server.crt`,
    keyFile: `${dataDir}/sysadm/server.key`,
  });
  expect(statSync(files.keyFile).mode & 0o777).toBe(0o600);
  const cert = readFileSync(files.certFile, "utf8");
  const x509 = new X509Certificate(cert);
  expect(x509.subjectAltName).toContain("IP Address:127.0.0.1");
  ensureSysadmTls(config);
  expect(readFileSync(files.certFile, "utf8")).toBe(cert);

  const own = parseConfig(`[sysadm]\ncert_file = "${files.certFile}"\nkey_file = "${files.keyFile}"`, "t");
  expect(ensureSysadmTls(own)).toEqual(files);
  const half = parseConfig(`[sysadm]\ncert_file = "${files.certFile}"`, "t");
  expect(errorOf(() => ensureSysadmTls(half))?.message).toContain("cert_file and key_file");
  const missing = parseConfig(`[sysadm]\ncert_file = "/nonexistent.crt"\nkey_file = "${files.keyFile}"`, "t");
  expect(errorOf(() => ensureSysadmTls(missing))?.message).toContain("/nonexistent.crt does not exist");
});
