// libvirt never prints to stderr: its errors only come back as LibvirtError, on every thread.
import { expect, test } from "bun:test";

const script = `
import { Connection } from "${new URL("../../../src/ffi/index.ts", import.meta.url).pathname}";
const c = Connection.open("test:///default");
for (const name of ["nope-1", "nope-2"]) { try { c.domainByName(name); } catch {} }
try { c.defineDomain("<domain"); } catch {}
try { Connection.open("nosuchdriver:///"); } catch {}
c.close();
console.log("done");
`;

test("failing libvirt calls print nothing on stderr", () => {
  const r = Bun.spawnSync(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
  expect(r.stdout.toString().trim()).toBe("done");
  expect(r.stderr.toString()).toBe("");
});
