// A periodic background job: runs now, every interval and on demand, never two runs at once, never throws.
import { log } from "../log.ts";

export interface PeriodicJob {
  /** Asks for a run: starts one now, or one more right after the run in progress. */
  trigger(reason: string): void;
  /** Resolves when no run is in progress (or queued). */
  idle(): Promise<void>;
  /** No more runs; resolves when the run in progress (if any) has ended. */
  stop(): Promise<void>;
}

export function startPeriodic(
  name: string,
  intervalMs: number,
  run: (reason: string) => Promise<void>,
  opts: { runAtStart?: boolean } = {},
): PeriodicJob {
  let running: Promise<void> | null = null;
  let again: string | null = null;
  let stopped = false;

  const loop = async (reason: string): Promise<void> => {
    let why: string | null = reason;
    while (why !== null && !stopped) {
      again = null;
      try {
        await run(why);
      } catch (e) {
        log.error(`${name} failed`, { reason: why, error: e instanceof Error ? e.message : String(e) });
      }
      why = again;
    }
  };

  const trigger = (reason: string): void => {
    if (stopped) return;
    if (running) {
      again ??= reason; // coalesced: one more run after this one covers every request made meanwhile
      return;
    }
    running = loop(reason).finally(() => {
      running = null;
    });
  };

  const timer = setInterval(() => trigger("interval"), intervalMs);
  timer.unref?.();
  if (opts.runAtStart ?? true) trigger("start");

  return {
    trigger,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
