// bun run build: compiles berth and its Workers into one executable, dist/berth.
import { existsSync } from "node:fs";
import { $ } from "bun";

const root = new URL("..", import.meta.url).pathname;
// The bytecode a served start uses, laid out together: ~5 MiB fewer resident pages of the binary (bench/idle-rss.ts).
const order = "scripts/bytecode-order.txt";
const ordered = existsSync(`${root}${order}`) ? [`--bytecode-order=${order}`] : [];
await $`bun build --compile --minify --bytecode ${ordered} --format=esm --sourcemap=none ./src/main.ts ./src/workers/hypervisor.ts ./src/workers/event-pump.ts ./src/workers/checkpointer.ts ./src/workers/pool-members.ts --outfile dist/berth`.cwd(
  root,
);
console.log(`built ${root}dist/berth`);
