// Child process of bench/idle-rss.ts: what libvirt's test driver alone holds in memory for N running domains and N volumes.
// Usage: bun bench/support/test-driver-rss.ts <n> <domain-xml-file>; prints {"before":{...},"after":{...}} (MiB).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "../../src/ffi/index.ts";
import { rssParts } from "./proc-rss.ts";

const n = Number(process.argv[2]);
const sample = readFileSync(process.argv[3] as string, "utf8")
  .replace(/^<\?xml[^>]*>\s*/, "")
  .replace(/<uuid>[^<]*<\/uuid>/, "");
const name = /<name>([^<]+)<\/name>/.exec(sample)?.[1];
if (!name || !Number.isInteger(n)) throw new Error("usage: test-driver-rss.ts <n> <domain-xml-file>");

const dir = mkdtempSync(join(tmpdir(), "berth-td-rss-"));
const c = Connection.open("test:///default");
Bun.gc(true);
const before = rssParts(process.pid);
const pool = c.defineStoragePool(
  `<pool type='dir'><name>td-rss</name><target><path>${dir}</path></target></pool>`,
);
pool.create();
for (let i = 0; i < n; i++) {
  pool
    .createVolume(
      `<volume><name>td-${i}.qcow2</name><capacity unit='bytes'>1048576</capacity><target><format type='qcow2'/></target></volume>`,
    )
    .free();
  // Same XML as berth's VM, renamed (the name is an XML-safe DNS label), running as berth's are.
  using d = c.defineDomain(sample.replace(`<name>${name}</name>`, `<name>td-${i}</name>`));
  d.create();
}
pool.free();
Bun.gc(true);
await Bun.sleep(500);
const after = rssParts(process.pid);
c.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ before, after }));
