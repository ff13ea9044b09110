// The password throttle: token buckets per user and per address, bounded verifiers and queue, 429 before any hashing.
import { describe, expect, test } from "bun:test";
import { Buckets, PasswordThrottle, TooManyRequests } from "../../../src/core/auth/throttle.ts";

/** A clock the test moves by hand, in milliseconds. */
function clock() {
  const c = { t: 0, now: () => c.t };
  return c;
}

const limits = { perUserPerMinute: 5, perAddressPerMinute: 3, concurrent: 2, queued: 2 };

/** A check that stays pending until released, counting how often it ran. */
function gate() {
  const g = { calls: 0, open: [] as (() => void)[] };
  const check = () => {
    g.calls++;
    return new Promise<string>((resolve) => g.open.push(() => resolve("ok")));
  };
  return { g, check };
}

describe("Buckets", () => {
  test("perMinute tokens at once, then one every 60/perMinute seconds", () => {
    const c = clock();
    const b = new Buckets(3, c.now);
    for (let i = 0; i < 3; i++) {
      expect(b.wait("k")).toBe(0);
      b.take("k");
    }
    expect(b.wait("k")).toBeCloseTo(20, 5);
    c.t += 10_000;
    expect(b.wait("k")).toBeCloseTo(10, 5);
    c.t += 10_000;
    expect(b.wait("k")).toBe(0);
    expect(b.wait("other")).toBe(0);
  });

  test("past maxKeys the least recently used key is forgotten, so the map stays bounded", () => {
    const c = clock();
    const b = new Buckets(1, c.now, 3);
    for (const k of ["a", "b", "c"]) b.take(k);
    b.take("a"); // a is now the most recent; b the least
    b.take("d");
    expect(b.wait("b")).toBe(0); // forgotten: full again
    expect(b.wait("a")).toBeGreaterThan(0);
    expect(b.wait("d")).toBeGreaterThan(0);
  });
});

describe("PasswordThrottle", () => {
  test("an address past its bucket gets 429 with Retry-After seconds, and its checks never run", async () => {
    const c = clock();
    const t = new PasswordThrottle({ ...limits, concurrent: 10, queued: 10 }, c.now);
    let calls = 0;
    const check = async () => ++calls;
    for (let i = 0; i < 3; i++) await t.run(`u${i}`, "10.0.0.1", check);
    const e = await t.run("u9", "10.0.0.1", check).catch((x) => x);
    expect(e).toBeInstanceOf(TooManyRequests);
    expect(e).toMatchObject({ httpStatus: 429, errorCode: "too_many_requests", retryAfterS: 20 });
    expect(calls).toBe(3);
    // Another address is not held back by the first one's attempts.
    expect(await t.run("u0", "10.0.0.2", check)).toBe(4);
  });

  test("a user past its bucket gets 429 from every address; null addresses count per user only", async () => {
    const c = clock();
    const t = new PasswordThrottle({ ...limits, concurrent: 10, queued: 10 }, c.now);
    const check = async () => "checked";
    for (let i = 0; i < 5; i++) await t.run("alice", `10.0.1.${i}`, check);
    await expect(t.run("alice", "10.0.2.1", check)).rejects.toBeInstanceOf(TooManyRequests);
    for (let i = 0; i < 5; i++) await t.run("bob", null, check);
    await expect(t.run("bob", null, check)).rejects.toBeInstanceOf(TooManyRequests);
    c.t += 12_000; // one token back for each user
    expect(await t.run("alice", "10.0.2.1", check)).toBe("checked");
  });

  test("names longer than any user name share one bucket", async () => {
    const c = clock();
    const t = new PasswordThrottle({ ...limits, concurrent: 10, queued: 10 }, c.now);
    const check = async () => "checked";
    for (let i = 0; i < 5; i++) await t.run(`${"x".repeat(100)}${i}`, `10.0.3.${i}`, check);
    await expect(t.run(`${"y".repeat(100)}`, "10.0.3.9", check)).rejects.toBeInstanceOf(TooManyRequests);
  });

  test("at most `concurrent` checks run and `queued` wait; beyond, 429 at once; the queue drains in order", async () => {
    const t = new PasswordThrottle({ ...limits, perUserPerMinute: 100, perAddressPerMinute: 100 });
    const { g, check } = gate();
    const runs = [1, 2, 3, 4].map((i) => t.run(`u${i}`, `10.0.4.${i}`, check));
    await Bun.sleep(0);
    expect(g.calls).toBe(2);
    expect(t.load).toEqual({ running: 2, waiting: 2 });
    const e = await t.run("u5", "10.0.4.5", check).catch((x) => x);
    expect(e).toBeInstanceOf(TooManyRequests);
    expect(e.retryAfterS).toBe(1);
    g.open.shift()?.();
    await Bun.sleep(0);
    expect(g.calls).toBe(3);
    expect(t.load).toEqual({ running: 2, waiting: 1 });
    while (g.open.length > 0 || g.calls < 4) {
      g.open.shift()?.();
      await Bun.sleep(0);
    }
    expect(await Promise.all(runs)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(t.load).toEqual({ running: 0, waiting: 0 });
  });

  test("a check that throws frees its verifier for the next one", async () => {
    const t = new PasswordThrottle({ ...limits, concurrent: 1, queued: 1 });
    const failing = t.run("a", "10.0.5.1", async () => {
      throw new Error("bad hash");
    });
    const next = t.run("b", "10.0.5.2", async () => "next ran");
    await expect(failing).rejects.toThrow("bad hash");
    expect(await next).toBe("next ran");
    expect(t.load).toEqual({ running: 0, waiting: 0 });
  });
});
