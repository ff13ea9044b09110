// The one fetch of users' URLs: address policy on every connection and redirect, one failure text, limits, credentials.

import { afterAll, describe, expect, test } from "bun:test";
import { addressPolicy, isPublicAddress } from "../../../src/core/net/addresses.ts";
import { redactUrls } from "../../../src/core/net/redact.ts";
import { type FetchOptions, safeFetch } from "../../../src/core/net/safe-fetch.ts";
import { AppError } from "../../../src/errors.ts";
import { deadEnds } from "../../support/dead-ends.ts";

const seen: { host: string; path: string; auth: string | null }[] = [];
/** Set once the server listens; its redirects name it. */
let port = 0;
const server = Bun.serve({
  port: 0,
  hostname: "0.0.0.0",
  fetch(req) {
    const url = new URL(req.url);
    seen.push({
      host: req.headers.get("host") ?? "",
      path: url.pathname,
      auth: req.headers.get("authorization"),
    });
    const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
    if (hops) {
      const n = Number(hops[1]);
      return n === 0 ? new Response("arrived") : Response.redirect(`/hops/${n - 1}`, 302);
    }
    if (url.pathname === "/to-other-loopback") {
      return Response.redirect(`http://127.0.0.2:${port}/secret`, 302);
    }
    if (url.pathname === "/to-other-origin") return Response.redirect(`http://127.0.0.2:${port}/echo`, 307);
    if (url.pathname === "/same-origin") return Response.redirect("/echo", 301);
    if (url.pathname === "/big") return new Response(new Uint8Array(4096));
    if (url.pathname === "/big-chunked") {
      const body = new ReadableStream({
        pull(c) {
          c.enqueue(new Uint8Array(1024));
        },
      });
      return new Response(body);
    }
    return new Response(`ok ${req.headers.get("authorization") ?? "-"}`);
  },
});
port = server.port ?? 0;
afterAll(() => server.stop(true));

const onlyLoopback1 = (ip: string) => ip === "127.0.0.1";
const base = (extra: Partial<FetchOptions> = {}): FetchOptions => ({
  signal: new AbortController().signal,
  policy: addressPolicy(true),
  label: "t",
  ...extra,
});

async function failure(url: string, extra: Partial<FetchOptions> = {}): Promise<AppError> {
  const e = await safeFetch(url, base(extra)).then(
    async (r) => {
      await r.body.cancel();
      return null;
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe("which addresses are public", () => {
  test("private, loopback, link-local, multicast, unspecified, CGNAT, broadcast and their IPv6 forms are not", () => {
    const refused = [
      "0.0.0.0",
      "10.1.2.3",
      "100.64.0.1",
      "100.127.255.254",
      "127.0.0.1",
      "127.255.255.254",
      "169.254.169.254",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "224.0.0.251",
      "239.255.255.250",
      "255.255.255.255",
      "::",
      "::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:10.0.0.1",
      "::ffff:169.254.169.254",
      "::127.0.0.1",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "ff02::1",
      "64:ff9b::7f00:1",
      "2002:7f00:1::1",
      "not an address",
    ];
    const allowed = [
      "8.8.8.8",
      "1.1.1.1",
      "100.128.0.1",
      "172.32.0.1",
      "::ffff:8.8.8.8",
      "2001:4860:4860::8888",
    ];
    expect(refused.filter(isPublicAddress)).toEqual([]);
    expect(allowed.filter((a) => !isPublicAddress(a))).toEqual([]);
  });
});

describe("redactUrls", () => {
  test("masks the query values of every URL (presigned URLs carry their secret there), keeping names", () => {
    expect(
      redactUrls(
        "https://b.s3.example/x.qcow2?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc123&flag#frag then http://h/i?token=t",
      ),
    ).toBe(
      "https://b.s3.example/x.qcow2?X-Amz-Credential=***&X-Amz-Signature=***&flag#frag then http://h/i?token=***",
    );
    expect(redactUrls("see /srv/a?b=c and ?x=y")).toBe("see /srv/a?b=c and ?x=y");
  });

  test("masks user and password of every URL in a text, and nothing else", () => {
    expect(redactUrls("https://user:pa55@host/x.qcow2")).toBe("https://***@host/x.qcow2");
    expect(redactUrls("http://token@host:81/a?b=c@d")).toBe("http://***@host:81/a?b=***");
    expect(redactUrls("kernel=https://a:b@h/k initrd=http://h/i")).toBe(
      "kernel=https://***@h/k initrd=http://h/i",
    );
    expect(redactUrls("GET http://u:p@ss@h/x: fetch failed")).toBe("GET http://***@h/x: fetch failed");
    expect(redactUrls("https://host/path@x and /srv/a@b")).toBe("https://host/path@x and /srv/a@b");
  });
});

describe("refusals (the default policy: public addresses only)", () => {
  const pub = addressPolicy(false);
  for (const host of [
    "127.0.0.1",
    "[::1]",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "[::ffff:127.0.0.1]",
    "localhost",
  ]) {
    test(`http://${host}:PORT/ is refused before any request reaches the server`, async () => {
      const before = seen.length;
      const e = await failure(`http://${host}:${port}/x`, { policy: pub });
      expect(e.errorCode).toBe("address_not_allowed");
      expect(e.message).toBe("t: refused: address not allowed");
      expect(seen.length).toBe(before);
    });
  }

  test("a redirect to an address the policy refuses is refused; the target is never asked", async () => {
    // Only 127.0.0.1 is allowed: the first hop is served, the redirect's 127.0.0.2 is not.
    const e = await failure(`http://127.0.0.1:${port}/to-other-loopback`, { policy: onlyLoopback1 });
    expect(e.message).toBe("t: refused: address not allowed");
    expect(seen.map((s) => s.path)).not.toContain("/secret");
  });

  test("the connection goes to the address the policy checked: one resolution, no second one to rebind", async () => {
    // A name only this stand-in DNS knows: its first answer is allowed, any later one would not be.
    const answers = [[{ address: "127.0.0.1", family: 4 }], [{ address: "127.0.0.2", family: 4 }]];
    let asked = 0;
    const resolve = async () => answers[Math.min(asked++, 1)] ?? [];
    const res = await safeFetch(`http://rebind.invalid:${port}/x`, base({ policy: onlyLoopback1, resolve }));
    expect(await new Response(res.body).text()).toBe("ok -");
    expect(asked).toBe(1);
    expect(seen.at(-1)?.host).toBe(`rebind.invalid:${port}`);
    // Had the name resolved to the refused address first, nothing would have been asked.
    asked = 1;
    const e = await failure(`http://rebind.invalid:${port}/x`, { policy: onlyLoopback1, resolve });
    expect(e.message).toBe("t: refused: address not allowed");
  });
});

describe("redirects, failures and limits", () => {
  test("at most 5 redirects are followed", async () => {
    const five = await safeFetch(`http://127.0.0.1:${port}/hops/5`, base());
    expect(await new Response(five.body).text()).toBe("arrived");
    expect((await failure(`http://127.0.0.1:${port}/hops/6`)).message).toBe("t: fetch failed");
  });

  test("a closed port, a port that hangs up, one that speaks another protocol and a silent one fail alike", async () => {
    const messages = new Set<string>();
    const ports = deadEnds();
    try {
      messages.add((await failure(`http://127.0.0.1:${ports.closed}/`)).message);
      messages.add((await failure(`http://127.0.0.1:${ports.hangUp}/`)).message);
      messages.add((await failure(`http://127.0.0.1:${ports.ssh}/`)).message);
      messages.add((await failure(`http://127.0.0.1:${ports.silent}/`, { headersTimeoutMs: 300 })).message);
      messages.add((await failure("http://no-such-host.invalid/")).message);
    } finally {
      ports.stop();
    }
    expect([...messages]).toEqual(["t: fetch failed"]);
  });

  test("a body past maxBytes fails with too_large, announced or not", async () => {
    const announced = await failure(`http://127.0.0.1:${port}/big`, { maxBytes: 1024 });
    expect(announced).toMatchObject({ errorCode: "too_large", httpStatus: 413 });
    const res = await safeFetch(`http://127.0.0.1:${port}/big-chunked`, base({ maxBytes: 64 * 1024 }));
    const read = await new Response(res.body).arrayBuffer().then(
      () => null,
      (e: unknown) => e,
    );
    expect(read).toMatchObject({ errorCode: "too_large" });
  });

  test("credentials go to their own origin only: kept on a relative redirect, dropped on another origin", async () => {
    const same = await safeFetch(`http://us%40er:p%3Ass@127.0.0.1:${port}/same-origin`, base());
    expect(await new Response(same.body).text()).toBe(`ok Basic ${btoa("us@er:p:ss")}`);
    const other = await safeFetch(`http://user:pass@127.0.0.1:${port}/to-other-origin`, base());
    expect(await new Response(other.body).text()).toBe("ok -");
  });

  test("aborting rejects with the signal's reason, not a fetch failure", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const ac = new AbortController();
    const p = safeFetch(`http://127.0.0.1:${silent.port}/`, base({ signal: ac.signal }));
    setTimeout(() => ac.abort(new AppError(409, "cancelled", "stop")), 50);
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    silent.stop(true);
    expect(e).toMatchObject({ errorCode: "cancelled" });
  });
});
