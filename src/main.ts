// berth's entry point and composition root: it names the Worker files so the compiled binary embeds them.
import { runCli } from "./cli/index.ts";

// Referenced relative to this module so `bun build --compile` bundles them (each is also a build entrypoint).
const workers = {
  hypervisor: new URL("./workers/hypervisor.ts", import.meta.url).href,
  pump: new URL("./workers/event-pump.ts", import.meta.url).href,
  checkpointer: new URL("./workers/checkpointer.ts", import.meta.url).href,
  members: new URL("./workers/pool-members.ts", import.meta.url).href,
};

process.exit(await runCli(Bun.argv.slice(2), workers));
