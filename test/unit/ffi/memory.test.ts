// Handles and returned strings are freed: a long loop of list + XML calls keeps RSS flat.
import { expect, test } from "bun:test";

const child = new URL("./memory-child.ts", import.meta.url).pathname;

// In a process of its own: RSS then counts this loop alone, not what earlier test files left to the
// allocator, and its test driver holds only its own default domain.
test("50k list + XML calls: RSS grows by less than 24 MB (a leaked XML string per call would be ~67 MB)", () => {
  const r = Bun.spawnSync(["bun", child], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  const { bytes, grown } = JSON.parse(r.stdout.toString()) as { bytes: number; grown: number };
  expect(bytes).toBeGreaterThan(50_000 * 500); // the XML really was read each time
  expect(grown).toBeLessThan(24 * 1024 * 1024);
}, 120_000);
