// Records scripts/bytecode-order.txt: which functions a served start of dist/berth runs (a start, creates, lists).
// Usage: bun run build && bun scripts/record-bytecode-order.ts && bun run build   (needs libvirt's test driver)
import { rmSync } from "node:fs";
import { startBerthProcess } from "../bench/support/berth-process.ts";
import { seedTinyProfile, testDriverToml } from "../bench/support/test-driver.ts";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}scripts/bytecode-order.txt`;
rmSync(out, { force: true });
process.env.BUN_BYTECODE_ORDER_OUT = out;
const berth = await startBerthProcess({ toml: testDriverToml(), binary: `${root}dist/berth` });
try {
  const profile = await seedTinyProfile(berth.api, "order");
  for (let i = 0; i < 5; i++)
    await berth.api.expect("POST", "/v1/vms?wait=true", 200, { name: `order-${i}`, profile });
  for (const route of ["/v1/vms", "/v1/vms?recursion=0", "/v1/status", "/metrics", "/v1/pools", "/healthz"]) {
    const res = await fetch(`${berth.url}${route}`);
    if (res.status !== 200) throw new Error(`GET ${route}: ${res.status}`);
    await res.arrayBuffer();
  }
  await Bun.sleep(3000);
} finally {
  // The order file is written as the process exits.
  await berth.stop();
}
console.log(`wrote ${out}`);
