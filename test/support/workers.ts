// Worker entry files as the tests load them (the compiled binary embeds the same files).
import type { WorkerUrls } from "../../src/server.ts";

export const WORKERS: WorkerUrls = {
  hypervisor: new URL("../../src/workers/hypervisor.ts", import.meta.url).href,
  pump: new URL("../../src/workers/event-pump.ts", import.meta.url).href,
  checkpointer: new URL("../../src/workers/checkpointer.ts", import.meta.url).href,
  members: new URL("../../src/workers/pool-members.ts", import.meta.url).href,
};
