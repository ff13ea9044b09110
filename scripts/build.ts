// bun run build: compiles berth and its Workers into one executable, dist/berth.
import { $ } from "bun";

const root = new URL("..", import.meta.url).pathname;
await $`bun build --compile --minify --bytecode --format=esm --sourcemap=none ./src/main.ts ./src/workers/hypervisor.ts ./src/workers/event-pump.ts ./src/workers/checkpointer.ts --outfile dist/berth`.cwd(
  root,
);
console.log(`built ${root}dist/berth`);
