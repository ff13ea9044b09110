// Stream slots: a per-client and a total bound on open event streams; releasing frees exactly one slot.
import { expect, test } from "bun:test";
import { StreamSlots, TooManyStreams } from "../../../src/core/event-streams.ts";

test("a client past its bound is refused (503, scope client); others still get slots", () => {
  const s = new StreamSlots(10, 2);
  s.acquire("address:10.0.0.1");
  s.acquire("address:10.0.0.1");
  const e = (() => {
    try {
      s.acquire("address:10.0.0.1");
    } catch (x) {
      return x;
    }
  })();
  expect(e).toBeInstanceOf(TooManyStreams);
  expect(e).toMatchObject({
    httpStatus: 503,
    errorCode: "too_many_streams",
    details: { scope: "client", limit: 2 },
  });
  expect(s.acquire("user:alice")).toBeFunction();
  expect(s.open).toBe(3);
});

test("past the total every client is refused (scope total) until a stream ends", () => {
  const s = new StreamSlots(3, 2);
  const a = s.acquire("a");
  s.acquire("b");
  s.acquire("c");
  expect(() => s.acquire("d")).toThrow(/limits.max_event_streams\)/);
  a();
  expect(s.acquire("d")).toBeFunction();
});

test("a release frees its slot once, however often it is called; an idle client is forgotten", () => {
  const s = new StreamSlots(5, 1);
  const r = s.acquire("a");
  r();
  r();
  expect(s.open).toBe(0);
  expect(s.heldBy("a")).toBe(0);
  const r2 = s.acquire("a");
  s.acquire("b");
  r();
  expect(s.open).toBe(2);
  expect(s.heldBy("a")).toBe(1);
  r2();
  expect(s.open).toBe(1);
});
