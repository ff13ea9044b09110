// Run by memory.test.ts in a process of its own: churns list + XML calls and prints the XML bytes read and the RSS grown.
import { Connection } from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");

function churn(n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    for (const d of conn.listDomains()) {
      using dom = d;
      bytes += dom.xml().length + dom.name().length;
    }
    using net = conn.networkByName("default");
    bytes += net.xml().length;
  }
  return bytes;
}

churn(5_000); // warm up allocators and JIT
Bun.gc(true);
const before = process.memoryUsage().rss;
const bytes = churn(50_000);
Bun.gc(true);
const grown = process.memoryUsage().rss - before;
conn.close();
console.log(JSON.stringify({ bytes, grown }));
