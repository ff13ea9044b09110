// Event ids survive a restart: two cores, one after the other, on one data dir never reuse an id, so Last-Event-ID resumes.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { ID_BLOCK } from "../../../src/core/events.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";

const config = testConfig();
afterAll(() => rmSync(config.data_dir, { recursive: true, force: true }));

/** The ids of the events a stream with `Last-Event-ID: last` carries until `publish` has run and `count` came. */
async function streamed(app: ReturnType<typeof createApp>, last: number, publish: () => void, count: number) {
  const ac = new AbortController();
  const res = await app.handle(
    new Request("http://localhost/v1/events", {
      headers: { "last-event-id": String(last) },
      signal: ac.signal,
    }),
  );
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  publish();
  const ids: number[] = [];
  let text = "";
  while (ids.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    ids.splice(0, ids.length, ...[...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])));
  }
  ac.abort();
  await reader.cancel().catch(() => {});
  return ids;
}

test("a second core on the same data dir numbers its events after every id the first one gave", async () => {
  const first = await testCore(config);
  const before: number[] = [];
  // More than a block, so the first run reserves ids twice.
  for (let i = 0; i < ID_BLOCK + 5; i++) before.push(first.events.publish("test.n", `t/${i}`).id);
  await first.close();
  const last = Math.max(...before);
  expect(new Set(before).size).toBe(before.length);

  const second = await testCore(config);
  let secondLast = 0;
  try {
    const next = second.events.publish("test.n", "t/after").id;
    expect(next).toBeGreaterThan(last);
    // A client resuming with the first run's last id gets the second run's new events, not nothing.
    const ids = await streamed(createApp(second), last, () => second.events.publish("test.n", "t/live"), 2);
    expect(ids).toEqual([next, next + 1]);
    secondLast = next + 1;
  } finally {
    await second.close();
  }

  const third = await testCore(config);
  try {
    expect(third.events.publish("test.n", "t/third").id).toBeGreaterThan(secondLast);
  } finally {
    await third.close();
  }
});
