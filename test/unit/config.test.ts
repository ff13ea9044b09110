// berth.toml validation: defaults, environment overrides, and errors that name the key path.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseListen } from "../../src/config/listen.ts";
import { loadConfig, parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

function problems(toml: string): string[] {
  try {
    parseConfig(toml, "t.toml");
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

test("an empty file gives every documented default", () => {
  const c = parseConfig("", "t.toml");
  expect(c.listen).toBe("127.0.0.1:8470");
  expect(c.data_dir).toBe("/var/lib/berth");
  expect(c.log_level).toBe("info");
  expect(c.hypervisor.uri).toBe("qemu:///system");
  expect(c.hypervisor.domain_type).toBe("auto");
  expect(Object.isFrozen(c.hypervisor)).toBe(true);
});

test("the shipped example file is valid and matches the defaults", async () => {
  const example = await Bun.file(new URL("../../deploy/berth.example.toml", import.meta.url)).text();
  expect(parseConfig(example, "example")).toEqual(parseConfig("", "empty"));
});

test("environment overrides win over the file", () => {
  const c = parseConfig('listen = "0.0.0.0:1"\n[hypervisor]\nuri = "qemu:///session"\n', "t", {
    BERTH_LISTEN: "127.0.0.1:9000",
    BERTH_DATA_DIR: "/srv/berth",
    BERTH_HYPERVISOR_URI: "test:///default",
  });
  expect(c.listen).toBe("127.0.0.1:9000");
  expect(c.data_dir).toBe("/srv/berth");
  expect(c.hypervisor.uri).toBe("test:///default");
});

test("errors name the key path and what was expected", () => {
  expect(problems("listen = 5")).toEqual(["listen: Expected string (got 5)"]);
  expect(problems('[hypervisor]\ndomain_type = "xen"')).toEqual([
    'hypervisor.domain_type: expected one of "auto", "kvm", "qemu" (got "xen")',
  ]);
  expect(problems("[hypervisor]\nworkers = 0")[0]).toStartWith("hypervisor.workers:");
  expect(problems('listen = "nope"')[0]).toStartWith("listen:");
});

test("unknown keys are rejected (a typo never silently falls back to a default)", () => {
  expect(problems('lisen = "127.0.0.1:1"')).toEqual(['lisen: Unexpected property (got "127.0.0.1:1")']);
  expect(problems("[hypervisor]\nurl = 'x'")[0]).toStartWith("hypervisor.url: Unexpected property");
});

test("TOML syntax errors carry the file and line", () => {
  const e = (() => {
    try {
      parseConfig("listen = \n", "bad.toml");
    } catch (err) {
      return err as ConfigError;
    }
  })();
  expect(e).toBeInstanceOf(ConfigError);
  expect(e?.message).toMatch(/^bad\.toml(:\d+)?: /);
});

test("an explicit config path that does not exist is an error; the absent default is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-cfg-"));
  await expect(loadConfig({ path: join(dir, "missing.toml"), env: {} })).rejects.toThrow(/does not exist/);
  const file = join(dir, "berth.toml");
  writeFileSync(file, 'log_level = "debug"\n');
  expect((await loadConfig({ env: { BERTH_CONFIG: file } })).log_level).toBe("debug");
});

test("listen splits into hostname and port, IPv6 included", () => {
  expect(parseListen("127.0.0.1:8470")).toEqual({ hostname: "127.0.0.1", port: 8470 });
  expect(parseListen("[::1]:80")).toEqual({ hostname: "::1", port: 80 });
});
