// Handles and returned strings are freed: a long loop of list + XML calls keeps RSS flat.
import { afterAll, expect, test } from "bun:test";
import { Connection } from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");
afterAll(() => conn.close());

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

test("50k list + XML calls: RSS grows by less than 24 MB (a leaked XML string per call would be ~100 MB)", () => {
  churn(5_000); // warm up allocators and JIT
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  const bytes = churn(50_000);
  Bun.gc(true);
  const grown = process.memoryUsage().rss - before;
  expect(bytes).toBeGreaterThan(50_000 * 500); // the XML really was read each time
  expect(grown).toBeLessThan(24 * 1024 * 1024);
  // Its time grows with the domains other test files left in the shared test driver: not a time test.
}, 120_000);
