// EventBus: increasing ids, fan-out, unsubscribe, and the bounded replay buffer behind Last-Event-ID.
import { expect, test } from "bun:test";
import { type BerthEvent, EventBus } from "../../../src/core/events.ts";

test("publish numbers events from 1, stamps ISO time, and hands them to every listener", () => {
  const bus = new EventBus();
  const a: BerthEvent[] = [];
  const b: BerthEvent[] = [];
  bus.subscribe((e) => a.push(e));
  bus.subscribe((e) => b.push(e));
  const e1 = bus.publish("vm.started", "vm/web-1", { x: 1 });
  const e2 = bus.publish("vm.stopped", "vm/web-1");
  expect([e1.id, e2.id]).toEqual([1, 2]);
  expect(new Date(e1.time).toISOString()).toBe(e1.time);
  expect(e2.data).toEqual({});
  expect(a).toEqual([e1, e2]);
  expect(b).toEqual([e1, e2]);
});

test("an unsubscribed listener gets nothing more; unsubscribing twice is harmless", () => {
  const bus = new EventBus();
  const got: number[] = [];
  const off = bus.subscribe((e) => got.push(e.id));
  bus.publish("a", "t/1");
  off();
  off();
  bus.publish("a", "t/2");
  expect(got).toEqual([1]);
});

test("since(id) returns the held events after id, oldest first", () => {
  const bus = new EventBus();
  for (let i = 0; i < 5; i++) bus.publish("n", `t/${i}`);
  expect(bus.since(2).map((e) => e.id)).toEqual([3, 4, 5]);
  expect(bus.since(0).map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
  expect(bus.since(5)).toEqual([]);
  expect(bus.since(99)).toEqual([]);
});

test("the replay buffer keeps only the newest `keep` events", () => {
  const bus = new EventBus(3);
  for (let i = 0; i < 10; i++) bus.publish("n", "t/1");
  expect(bus.since(0).map((e) => e.id)).toEqual([8, 9, 10]);
});
