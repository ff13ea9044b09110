// GET /v1/events: SSE framing, Last-Event-ID replay, filters, keepalive, bad input, and no leaked listener.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { issueToken } from "../../../src/core/auth/index.ts";
import { createApp } from "../../../src/routes/app.ts";
import { errorMapping } from "../../../src/routes/errors.ts";
import { eventRoutes, eventStream, MAX_BACKLOG } from "../../../src/routes/native/events.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { json } from "../../support/http.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

let core: Awaited<ReturnType<typeof testCore>>;
/** Listeners the streams hold on the bus right now (counted around the real subscribe). */
let active = 0;

beforeAll(async () => {
  core = await testCore();
  const subscribe = core.events.subscribe.bind(core.events);
  core.events.subscribe = (fn) => {
    active++;
    const off = subscribe(fn);
    return () => {
      active--;
      return off();
    };
  };
});
afterAll(() => core.close());

/** The events route alone with a short heartbeat, behind the app's error mapping. */
const fastApp = () =>
  new Elysia({ normalize: false }).use(errorMapping()).use(eventRoutes(core, { heartbeatMs: 50 }));

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** What the tests need of a body reader (Bun's and node's reader types differ). */
interface Reader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

/** Reads SSE frames from a response until `n` frames (events or comments) have arrived. */
async function frames(reader: Reader, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  let buf = "";
  const dec = new TextDecoder();
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let end = buf.indexOf("\n\n");
    while (end >= 0 && out.length < n) {
      const f: Frame = {};
      for (const line of buf.slice(0, end).split("\n")) {
        if (line.startsWith(":")) f.comment = line.slice(1).trim();
        else {
          const i = line.indexOf(": ");
          (f as Record<string, string>)[line.slice(0, i)] = line.slice(i + 2);
        }
      }
      out.push(f);
      buf = buf.slice(end + 2);
      end = buf.indexOf("\n\n");
    }
  }
  return out;
}

function open(
  path: string,
  headers: Record<string, string> = {},
  app: { handle(r: Request): Promise<Response> } = fastApp(),
) {
  const abort = new AbortController();
  const res = app.handle(new Request(`http://localhost${path}`, { headers, signal: abort.signal }));
  return { abort, res };
}

test("the stream is text/event-stream, uncached, and starts with a retry hint", async () => {
  const before = active;
  const { abort, res } = open("/v1/events");
  const r = await res;
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect(r.headers.get("cache-control")).toBe("no-cache");
  const reader = (r.body as ReadableStream<Uint8Array>).getReader() as Reader;
  expect(await frames(reader, 1)).toEqual([{ retry: "3000" }]);
  expect(active).toBe(before + 1);
  abort.abort();
  expect(active).toBe(before);
});

test("each event is id, event and data {id,time,type,target,data}", async () => {
  const { abort, res } = open("/v1/events");
  const reader = ((await res).body as ReadableStream<Uint8Array>).getReader() as Reader;
  await frames(reader, 1);
  const e = core.events.publish("vm.started", "vm/web-1", { by: "test" });
  const [f] = await frames(reader, 1);
  expect(f?.id).toBe(String(e.id));
  expect(f?.event).toBe("vm.started");
  expect(JSON.parse(f?.data ?? "")).toEqual({
    id: e.id,
    time: e.time,
    type: "vm.started",
    target: "vm/web-1",
    data: { by: "test" },
  });
  abort.abort();
});

test("Last-Event-ID replays the held events after it, then goes live", async () => {
  const a = core.events.publish("t.replay", "x/1");
  const b = core.events.publish("t.replay", "x/2");
  const c = core.events.publish("t.replay", "x/3");
  const { abort, res } = open("/v1/events?type=t.replay", { "last-event-id": String(a.id) });
  const reader = ((await res).body as ReadableStream<Uint8Array>).getReader() as Reader;
  const replayed = await frames(reader, 3);
  expect(replayed.slice(1).map((f) => f.id)).toEqual([String(b.id), String(c.id)]);
  const d = core.events.publish("t.replay", "x/4");
  expect((await frames(reader, 1))[0]?.id).toBe(String(d.id));
  abort.abort();
});

test("type and target filters are exact matches over comma lists", async () => {
  const { abort, res } = open("/v1/events?type=f.one,f.two&target=vm/a,vm/b");
  const reader = ((await res).body as ReadableStream<Uint8Array>).getReader() as Reader;
  await frames(reader, 1);
  core.events.publish("f.one", "vm/c"); // target not listed
  core.events.publish("f.one", "vm/ab"); // not an exact match
  core.events.publish("f.on", "vm/a"); // type prefix only
  core.events.publish("f.three", "vm/a");
  const want1 = core.events.publish("f.one", "vm/a");
  const want2 = core.events.publish("f.two", "vm/b");
  const got = await frames(reader, 2);
  expect(got.map((f) => f.id)).toEqual([String(want1.id), String(want2.id)]);
  abort.abort();
});

test("a visibility predicate (the caller's authorization) hides events in the replay and live", async () => {
  const a = core.events.publish("v.test", "vm/seen-0");
  core.events.publish("v.test", "vm/hidden-1");
  const ctrl = new AbortController();
  const stream = eventStream(core.events, {
    lastId: a.id - 1,
    filter: { types: new Set(["v.test"]), targets: null },
    signal: ctrl.signal,
    heartbeatMs: 60_000,
    visible: (e) => !e.target.startsWith("vm/hidden"),
  });
  const reader = stream.getReader() as Reader;
  core.events.publish("v.test", "vm/hidden-2");
  core.events.publish("v.test", "vm/seen-3");
  const got = await frames(reader, 3);
  expect(got.slice(1).map((f) => JSON.parse(f.data ?? "").target)).toEqual(["vm/seen-0", "vm/seen-3"]);
  ctrl.abort();
});

test("a keepalive comment comes when nothing happens", async () => {
  const { abort, res } = open("/v1/events?type=never.published");
  const reader = ((await res).body as ReadableStream<Uint8Array>).getReader() as Reader;
  const got = await frames(reader, 3);
  expect(got.slice(1)).toEqual([{ comment: "keepalive" }, { comment: "keepalive" }]);
  abort.abort();
});

test("the listener goes when the client aborts, when the reader cancels, and after many clients", async () => {
  const before = active;
  const clients = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const { abort, res } = open("/v1/events");
      return { abort, reader: ((await res).body as ReadableStream<Uint8Array>).getReader() as Reader };
    }),
  );
  expect(active).toBe(before + 20);
  for (const [i, c] of clients.entries()) {
    if (i % 2 === 0) c.abort.abort();
    else await c.reader.cancel();
  }
  expect(active).toBe(before);
  // A publish after they left reaches nobody and throws nothing.
  expect(() => core.events.publish("after.leave", "x/1")).not.toThrow();
  // The aborted stream ends after what it had queued (its retry hint).
  const first = clients[0]?.reader as Reader;
  expect(await frames(first, 5)).toEqual([{ retry: "3000" }]);
  expect((await first.read()).done).toBe(true);
});

test("a request already aborted gets a closed stream and leaves no listener", async () => {
  const before = active;
  const abort = new AbortController();
  abort.abort();
  const r = await fastApp().handle(new Request("http://localhost/v1/events", { signal: abort.signal }));
  const reader = (r.body as ReadableStream<Uint8Array>).getReader() as Reader;
  await frames(reader, 5);
  expect((await reader.read()).done).toBe(true);
  expect(active).toBe(before);
});

test("a client that never reads is cut off after MAX_BACKLOG events, and the publisher never notices", async () => {
  const before = active;
  const { res } = open("/v1/events?type=flood");
  await res;
  expect(active).toBe(before + 1);
  for (let i = 0; i < MAX_BACKLOG + 10; i++) core.events.publish("flood", "x/1", { i });
  expect(active).toBe(before);
});

test("a real socket: the client disconnecting unsubscribes; a quiet stream outlives the idle timeout", async () => {
  const before = active;
  const app = new Elysia()
    .use(eventRoutes(core, { heartbeatMs: 60_000 }))
    .listen({ port: 0, idleTimeout: 1 });
  try {
    const abort = new AbortController();
    const res = await fetch(`http://localhost:${app.server?.port}/v1/events`, { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader() as Reader;
    await frames(reader, 1);
    await Bun.sleep(5000); // Bun cuts a quiet stream ~4 s in at idleTimeout 1; no heartbeat comes meanwhile
    const e = core.events.publish("socket.test", "x/1");
    const [f] = await frames(reader, 1);
    expect(f?.id).toBe(String(e.id));
    expect(active).toBe(before + 1);
    abort.abort();
    const t0 = Date.now();
    while (active !== before && Date.now() - t0 < 3000) await Bun.sleep(20);
    expect(active).toBe(before);
  } finally {
    await app.stop(true);
  }
}, 15_000);

test.each([
  ["/v1/events?type=", "query.type"],
  ["/v1/events?type=a,,b", "query.type"],
  ["/v1/events?target=vm/a,", "query.target"],
  ["/v1/events?follow=1", "query.follow"],
])("%s is 400 naming %s", async (path, where) => {
  const before = active;
  const res = await fastApp().handle(new Request(`http://localhost${path}`));
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.error.code).toBe("invalid_request");
  expect(body.error.message).toContain(where);
  expect(active).toBe(before);
});

test("a Last-Event-ID that is not a number is 400", async () => {
  const res = await fastApp().handle(
    new Request("http://localhost/v1/events", { headers: { "last-event-id": "12abc" } }),
  );
  expect(res.status).toBe(400);
  expect((await json(res)).error.message).toContain("last-event-id");
});

test("the app serves /v1/events and documents it in OpenAPI", async () => {
  const app = createApp(core);
  const doc = await json(await app.handle(new Request("http://localhost/openapi.json")));
  const op = doc.paths["/v1/events"].get;
  expect(op.responses["200"].content["text/event-stream"]).toBeDefined();
  expect(op.description).toContain("Last-Event-ID");
  const names = op.parameters.map((p: { name: string }) => p.name);
  expect(names).toEqual(expect.arrayContaining(["type", "target", "last-event-id"]));
  const abort = new AbortController();
  const res = await app.handle(new Request("http://localhost/v1/events", { signal: abort.signal }));
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  abort.abort();
});

test("with auth on a stream needs a token and carries only what its caller may see", async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const users = ["alice", "bob", "root"]
    .map((n) => `[[auth.users]]\nname = "${n}"\npassword_hash = "${hash}"\nadmin = ${n === "root"}\n`)
    .join("");
  const authed = await testCore(testConfig(`[auth]\nenabled = true\n${users}`));
  try {
    const app = createApp(authed);
    insertVmRow(authed.db, { id: "a1", name: "ev-alice", owner: "alice" });
    const token = (n: string) => issueToken(authed, { name: n, admin: n === "root", tokenId: null }).token;
    const anonymous = await app.handle(new Request("http://localhost/v1/events"));
    expect(anonymous.status).toBe(401);
    const streams = Object.fromEntries(
      ["alice", "bob", "root"].map((n) => [n, open("/v1/events", { "x-auth-token": token(n) }, app)]),
    );
    const readers: Record<string, Reader> = {};
    for (const [n, s] of Object.entries(streams)) {
      const r = await s.res;
      expect(r.status).toBe(200);
      readers[n] = (r.body as ReadableStream<Uint8Array>).getReader() as Reader;
      await frames(readers[n] as Reader, 1); // the retry hint
    }
    authed.events.publish("vm.started", "vm/ev-alice");
    authed.events.publish("domain.lifecycle", "domain/ev-alice", { event: "started" });
    authed.events.publish("vm.started", "vm/someone-elses");
    authed.events.publish("token.issued", "user/bob");
    authed.events.publish("image.created", "image/debian");
    const targets = async (n: string, count: number) =>
      (await frames(readers[n] as Reader, count)).map((f) => JSON.parse(f.data ?? "{}").target);
    expect(await targets("alice", 3)).toEqual(["vm/ev-alice", "domain/ev-alice", "image/debian"]);
    expect(await targets("bob", 2)).toEqual(["user/bob", "image/debian"]);
    expect(await targets("root", 5)).toEqual([
      "vm/ev-alice",
      "domain/ev-alice",
      "vm/someone-elses",
      "user/bob",
      "image/debian",
    ]);
    // Alice's VM goes: the stream that showed it to her still tells her it is gone.
    authed.db.query("DELETE FROM vms WHERE id = 'a1'").run();
    authed.events.publish("vm.deleted", "vm/ev-alice");
    authed.events.publish("vm.deleted", "vm/never-hers");
    authed.events.publish("image.deleted", "image/debian");
    expect(await targets("alice", 2)).toEqual(["vm/ev-alice", "image/debian"]);
    for (const s of Object.values(streams)) s.abort.abort();
  } finally {
    await authed.close();
  }
});
