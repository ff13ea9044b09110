// The TLS pair of sysadm's listeners: the configured files, or a self-signed pair berth makes once in data_dir/sysadm (key 0600).
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { sysadmTlsFiles, type TlsFiles } from "../../config/fronts.ts";
import type { Config } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";

/** Makes the self-signed pair when none is configured and none was made before; answers the files to serve. */
export function ensureSysadmTls(config: Pick<Config, "data_dir" | "sysadm">): TlsFiles {
  const files = sysadmTlsFiles(config);
  const { cert_file, key_file } = config.sysadm;
  if ((cert_file === "") !== (key_file === ""))
    throw new ConfigError("[sysadm] cert_file and key_file are set together, or neither");
  if (cert_file !== "") {
    for (const f of [cert_file, key_file])
      if (!existsSync(f)) throw new ConfigError(`[sysadm] ${f} does not exist`);
    return files;
  }
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files;
  mkdirSync(dirname(files.keyFile), { recursive: true, mode: 0o700 });
  const made = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "3650",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
      "-keyout",
      files.keyFile,
      "-out",
      files.certFile,
    ],
    { stdout: "ignore", stderr: "pipe", env: { ...process.env, OPENSSL_CONF: "/dev/null" } },
  );
  if (made.exitCode !== 0)
    throw new ConfigError(`cannot make sysadm's self-signed certificate: ${made.stderr.toString().trim()}`);
  chmodSync(files.keyFile, 0o600);
  return files;
}
