// /v1/tokens through app.handle: issue with HTTP basic auth, list own, revoke own, expiry, auth off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { json } from "../../support/http.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  const alice = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
  const bob = await Bun.password.hash("bob-pw", { algorithm: "argon2id" });
  core = await testCore(
    testConfig(`[auth]
enabled = true
token_lifetime_hours = 2
[[auth.users]]
name = "alice"
password_hash = "${alice}"
[[auth.users]]
name = "bob"
password_hash = "${bob}"
`),
  );
  app = createApp(core);
});
afterAll(() => core.close());

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;
/** Headers without the keys a test case leaves unset. */
const defined = (h: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));
const call = (method: string, path: string, headers: Record<string, string | undefined> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { method, headers: defined(headers) }));
const issue = async (user: string, pw: string) => {
  const res = await call("POST", "/v1/tokens", { authorization: basic(user, pw) });
  expect(res.status).toBe(201);
  return await json(res);
};

describe("POST /v1/tokens", () => {
  test("good basic auth: 201 with the token shown once, expiring after token_lifetime_hours", async () => {
    const body = await issue("alice", "alice-pw");
    const token: string = body.token;
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(body.user).toBe("alice");
    expect(body.last_used_at).toBeNull();
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(2 * 3_600_000);
    const listed = await call("GET", "/v1/tokens", { "x-auth-token": token });
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).toContain(body.id);
    expect(text).not.toContain(token);
  });

  test("bad password, unknown user, missing or malformed credentials: 401 with WWW-Authenticate: Basic", async () => {
    for (const headers of [
      { authorization: basic("alice", "wrong") },
      { authorization: basic("nobody", "alice-pw") },
      {},
      { authorization: "Basic !!!" },
      { authorization: `Basic ${Buffer.from("no-colon").toString("base64")}` },
    ]) {
      const res = await call("POST", "/v1/tokens", headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="berth"');
      expect((await json(res)).error.code).toBe("unauthorized");
    }
  });

  test("a token cannot issue another token (only a password can)", async () => {
    const { token } = await issue("alice", "alice-pw");
    const res = await call("POST", "/v1/tokens", { "x-auth-token": token });
    expect(res.status).toBe(401);
  });
});

describe("GET /v1/tokens", () => {
  test("lists the caller's tokens only, by X-AUTH-TOKEN, Bearer, or basic auth", async () => {
    const a = await issue("alice", "alice-pw");
    const b = await issue("bob", "bob-pw");
    for (const headers of [
      { "x-auth-token": a.token },
      { authorization: `Bearer ${a.token}` },
      { authorization: basic("alice", "alice-pw") },
    ]) {
      const res = await call("GET", "/v1/tokens", headers);
      expect(res.status).toBe(200);
      const list = await json(res);
      expect(list.map((t: { id: string }) => t.id)).toContain(a.id);
      expect(list.map((t: { id: string }) => t.id)).not.toContain(b.id);
      expect(list.every((t: { user: string }) => t.user === "alice")).toBe(true);
      expect(Object.keys(list[0]).sort()).toEqual(["created_at", "expires_at", "id", "last_used_at", "user"]);
    }
  });

  test("missing, unknown and expired tokens: 401 with WWW-Authenticate", async () => {
    const { token, id } = await issue("alice", "alice-pw");
    core.db.query("UPDATE tokens SET expires_at = ? WHERE id = ?").run("2001-01-01T00:00:00.000Z", id);
    for (const [headers, message] of [
      [{}, "basic auth"],
      [{ "x-auth-token": "not-a-token" }, "invalid token"],
      [{ authorization: "Bearer not-a-token" }, "invalid token"],
      [{ "x-auth-token": token }, "expired"],
    ] as const) {
      const res = await call("GET", "/v1/tokens", headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^(Basic|Bearer) realm="berth"$/);
      expect((await json(res)).error.message).toContain(message);
    }
  });
});

describe("DELETE /v1/tokens/{id}", () => {
  test("revokes the caller's own token (204); the token stops working", async () => {
    const a = await issue("alice", "alice-pw");
    const keep = await issue("alice", "alice-pw");
    const res = await call("DELETE", `/v1/tokens/${a.id}`, { "x-auth-token": keep.token });
    expect(res.status).toBe(204);
    expect((await call("GET", "/v1/tokens", { "x-auth-token": a.token })).status).toBe(401);
    expect((await call("GET", "/v1/tokens", { "x-auth-token": keep.token })).status).toBe(200);
  });

  test("another user's token is 404, answered exactly as a token that does not exist", async () => {
    const a = await issue("alice", "alice-pw");
    const b = await issue("bob", "bob-pw");
    const theirs = await call("DELETE", `/v1/tokens/${b.id}`, { "x-auth-token": a.token });
    const absent = await call("DELETE", "/v1/tokens/no-such-token", { "x-auth-token": a.token });
    expect(theirs.status).toBe(404);
    expect(absent.status).toBe(404);
    const [t, n] = [await json(theirs), await json(absent)];
    expect(t.error.code).toBe(n.error.code);
    expect(t.error.message.replace(b.id, "ID")).toBe(n.error.message.replace("no-such-token", "ID"));
    expect((await call("GET", "/v1/tokens", { "x-auth-token": b.token })).status).toBe(200);
  });

  test("without credentials: 401", async () => {
    const b = await issue("bob", "bob-pw");
    const res = await call("DELETE", `/v1/tokens/${b.id}`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).not.toBeNull();
  });
});

describe("auth disabled", () => {
  let off: Awaited<ReturnType<typeof testCore>>;
  let offApp: ReturnType<typeof createApp>;
  beforeAll(async () => {
    off = await testCore();
    offApp = createApp(off);
  });
  afterAll(() => off.close());

  test("every token route is 404 auth_disabled", async () => {
    for (const [method, path] of [
      ["POST", "/v1/tokens"],
      ["GET", "/v1/tokens"],
      ["DELETE", "/v1/tokens/some-id"],
    ] as const) {
      const res = await offApp.handle(
        new Request(`http://localhost${path}`, { method, headers: { authorization: basic("alice", "x") } }),
      );
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe("auth_disabled");
    }
  });
});
