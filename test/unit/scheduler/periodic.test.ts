// startPeriodic: runs at start, on an interval and on demand; never two at once; failures never escape.
import { expect, test } from "bun:test";
import { startPeriodic } from "../../../src/scheduler/periodic.ts";

test("runs at start and then on every interval", async () => {
  const reasons: string[] = [];
  const job = startPeriodic("t", 40, async (why) => {
    reasons.push(why);
  });
  await Bun.sleep(150);
  await job.stop();
  expect(reasons[0]).toBe("start");
  expect(reasons.filter((r) => r === "interval").length).toBeGreaterThanOrEqual(2);
});

test("runAtStart false waits for the first trigger", async () => {
  const reasons: string[] = [];
  const job = startPeriodic("t", 60_000, async (why) => void reasons.push(why), { runAtStart: false });
  await Bun.sleep(20);
  expect(reasons).toEqual([]);
  job.trigger("asked");
  await job.idle();
  expect(reasons).toEqual(["asked"]);
  await job.stop();
});

test("never two runs at once: triggers during a run coalesce into one more run", async () => {
  let running = 0;
  let most = 0;
  const reasons: string[] = [];
  const gate = Promise.withResolvers<void>();
  const job = startPeriodic("t", 60_000, async (why) => {
    running++;
    most = Math.max(most, running);
    reasons.push(why);
    if (why === "start") await gate.promise;
    running--;
  });
  job.trigger("a");
  job.trigger("b");
  job.trigger("c");
  expect(reasons).toEqual(["start"]);
  gate.resolve();
  await job.idle();
  expect(reasons).toEqual(["start", "a"]);
  expect(most).toBe(1);
  await job.stop();
});

test("a failing run is logged, and the next one still happens", async () => {
  let n = 0;
  const job = startPeriodic("t", 60_000, async () => {
    n++;
    if (n === 1) throw new Error("libvirt hiccup");
  });
  await job.idle();
  job.trigger("again");
  await job.idle();
  expect(n).toBe(2);
  await job.stop();
});

test("stop waits for the run in progress, and nothing runs afterwards", async () => {
  const gate = Promise.withResolvers<void>();
  let finished = false;
  let runs = 0;
  const job = startPeriodic("t", 10, async () => {
    runs++;
    await gate.promise;
    finished = true;
  });
  const stopped = job.stop();
  let done = false;
  void stopped.then(() => {
    done = true;
  });
  await Bun.sleep(30);
  expect(done).toBe(false);
  gate.resolve();
  await stopped;
  expect(finished).toBe(true);
  job.trigger("late");
  await Bun.sleep(30);
  expect(runs).toBe(1);
});
