// The global auth guard: with [auth] on, every mutating route of every front needs a token; owners; auth off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { issueToken } from "../../../src/core/auth/index.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { json } from "../../support/http.ts";

type TestCore = Awaited<ReturnType<typeof testCore>>;
const MUTATING = ["post", "put", "patch", "delete"];
// A name no route knows: every request below fails after the guard, never changing anything.
const NOPE = "zz-auth-nope";

let core: TestCore;
let app: ReturnType<typeof createApp>;
let aliceToken: string;
let bobToken: string;
let rootToken: string;
beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const users = ["alice", "bob", "root"]
    .map((n) => `[[auth.users]]\nname = "${n}"\npassword_hash = "${hash}"\nadmin = ${n === "root"}\n`)
    .join("");
  core = await testCore(testConfig(`[auth]\nenabled = true\n${users}`));
  app = createApp(core);
  const as = (name: string) => issueToken(core, { name, admin: name === "root", tokenId: null }).token;
  [aliceToken, bobToken, rootToken] = [as("alice"), as("bob"), as("root")];
});
afterAll(() => core.close());

/** Headers without the keys a test case leaves unset. */
const defined = (h: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined));
const call = (
  method: string,
  path: string,
  headers: Record<string, string | undefined> = {},
  body?: string,
) =>
  app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: defined(body === undefined ? headers : { "content-type": "application/json", ...headers }),
      body,
    }),
  );

/** Every (method, concrete path) of the OpenAPI document that changes something. */
async function mutatingRoutes(): Promise<[string, string][]> {
  const doc = await json(await call("GET", "/openapi.json"));
  const out: [string, string][] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const m of Object.keys(ops).filter((k) => MUTATING.includes(k))) {
      out.push([m.toUpperCase(), path.replace(/\{[^}]+\}/g, NOPE)]);
    }
  }
  return out;
}

describe("auth enabled", () => {
  test("every mutating route of the OpenAPI document is 401 without a token, with WWW-Authenticate", async () => {
    const routes = await mutatingRoutes();
    const paths = new Set(routes.map(([m, p]) => `${m} ${p}`));
    // The document must cover the native API, both staging resources and the token routes.
    for (const expected of [
      "POST /v1/vms",
      `DELETE /v1/vms/${NOPE}`,
      `POST /v1/vms/${NOPE}/start`,
      `POST /hosts/${NOPE}`,
      `DELETE /networks/${NOPE}`,
      `PUT /hosts/${NOPE}/start`,
      "POST /v1/tokens",
      `DELETE /v1/tokens/${NOPE}`,
    ]) {
      expect(paths).toContain(expected);
    }
    for (const [method, path] of routes) {
      for (const headers of [{}, { "x-auth-token": "wrong" }, { authorization: "Bearer wrong" }]) {
        const res = await call(method, path, headers, method === "DELETE" ? undefined : "{}");
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
        expect(res.headers.get("www-authenticate")).toMatch(/^(Basic|Bearer) realm="berth"$/);
      }
    }
  });

  test("with a valid token every mutating route gets past the guard (its own 4xx, never 401/403)", async () => {
    for (const [method, path] of await mutatingRoutes()) {
      // Tokens are issued against a password only, natively and on the vmpooler front.
      if (method === "POST" && (path === "/v1/tokens" || path === "/api/v1/token")) continue;
      const res = await call(
        method,
        path,
        { "x-auth-token": aliceToken },
        method === "DELETE" ? undefined : "{}",
      );
      expect({ method, path, passed: ![401, 403].includes(res.status) }).toEqual({
        method,
        path,
        passed: true,
      });
    }
  });

  test("the native front answers 401 in its error shape; the staging front in its own", async () => {
    const native = await call("DELETE", `/v1/sizes/${NOPE}`);
    expect(await json(native)).toEqual({
      error: { code: "unauthorized", message: expect.stringContaining("X-AUTH-TOKEN") },
    });
    const staging = await call("DELETE", `/hosts/${NOPE}`);
    expect(staging.status).toBe(401);
    expect(await json(staging)).toEqual({ error: expect.stringContaining("needs a token") });
  });

  test("the guard answers before the body is parsed: malformed JSON without a token is 401, not 400", async () => {
    const res = await call("POST", "/v1/sizes", {}, "{not json");
    expect(res.status).toBe(401);
    const authed = await call("POST", "/v1/sizes", { "x-auth-token": aliceToken }, "{not json");
    expect(authed.status).toBe(400);
  });

  test("GET routes stay open, with no token or a stale one", async () => {
    for (const headers of [{}, { "x-auth-token": "stale" }]) {
      for (const path of ["/v1", "/v1/sizes", "/v1/vms", "/hosts", "/networks"]) {
        expect({ path, status: (await call("GET", path, headers)).status }).toEqual({ path, status: 200 });
      }
    }
  });

  test("a token works through X-AUTH-TOKEN and Authorization: Bearer on a real change", async () => {
    const body = (name: string) => JSON.stringify({ name, vcpus: 1, memory_mib: 64 });
    const a = await call("POST", "/v1/sizes", { "x-auth-token": aliceToken }, body("auth-size-a"));
    expect(a.status).toBe(201);
    const b = await call("POST", "/v1/sizes", { authorization: `Bearer ${bobToken}` }, body("auth-size-b"));
    expect(b.status).toBe(201);
    expect((await call("DELETE", "/v1/sizes/auth-size-a", { "x-auth-token": bobToken })).status).toBe(204);
    expect((await call("DELETE", "/v1/sizes/auth-size-b", { "x-auth-token": aliceToken })).status).toBe(204);
  });

  describe("ownership of checked-out VMs", () => {
    const owned = "auth-owned-vm";
    beforeAll(() => {
      core.db
        .query(
          "INSERT INTO pool_vms (vm_name, pool, generation, status, created_at, owner) VALUES (?, 'p', 1, 'checked_out', ?, 'alice')",
        )
        .run(owned, new Date().toISOString());
    });

    const onVm = [
      ["PATCH", `/v1/vms/${owned}`, "{}"],
      ["DELETE", `/v1/vms/${owned}`, undefined],
      ["POST", `/v1/vms/${owned}/stop`, "{}"],
      ["POST", `/v1/vms/${owned}/disks`, "{}"],
      ["DELETE", `/v1/vms/${owned}/disks/data`, undefined],
      ["POST", `/v1/vms/${owned}/snapshots`, "{}"],
      ["PUT", `/v1/vms/${owned}/xml`, "{}"],
      ["DELETE", `/hosts/${owned}`, undefined],
      ["PUT", `/hosts/${owned}/start`, undefined],
    ] as const;

    test("a non-owner is 403 not_owner on every change to the VM, on every front", async () => {
      for (const [method, path, body] of onVm) {
        const res = await call(method, path, { "x-auth-token": bobToken }, body);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
        const err = (await json(res)).error;
        expect(path.startsWith("/hosts") ? err : err.code).toEqual(
          path.startsWith("/hosts") ? expect.stringContaining("checked out by another user") : "not_owner",
        );
      }
    });

    test("the owner and an admin get past the guard", async () => {
      for (const token of [aliceToken, rootToken]) {
        for (const [method, path, body] of onVm) {
          const res = await call(method, path, { "x-auth-token": token }, body);
          expect({ method, path, status: [401, 403].includes(res.status) }).toEqual({
            method,
            path,
            status: false,
          });
        }
      }
    });

    test("reading someone else's VM stays open; a similarly named VM is not theirs", async () => {
      expect((await call("GET", `/v1/vms/${owned}`, { "x-auth-token": bobToken })).status).not.toBe(403);
      const res = await call("DELETE", `/v1/vms/${owned}-2`, { "x-auth-token": bobToken });
      expect(res.status).toBe(404);
    });
  });
});

describe("auth disabled (the default)", () => {
  let off: TestCore;
  let offApp: ReturnType<typeof createApp>;
  beforeAll(async () => {
    off = await testCore();
    offApp = createApp(off);
  });
  afterAll(() => off.close());

  test("every mutating route is open: nothing answers 401 or 403", async () => {
    const doc = await json(await offApp.handle(new Request("http://localhost/openapi.json")));
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const m of Object.keys(ops).filter((k) => MUTATING.includes(k))) {
        const method = m.toUpperCase();
        const res = await offApp.handle(
          new Request(`http://localhost${path.replace(/\{[^}]+\}/g, NOPE)}`, {
            method,
            headers: { "content-type": "application/json" },
            body: method === "DELETE" ? undefined : "{}",
          }),
        );
        expect({ method, path, status: [401, 403].includes(res.status) }).toEqual({
          method,
          path,
          status: false,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  test("an owned VM can be changed by anyone when auth is off", async () => {
    off.db
      .query(
        "INSERT INTO pool_vms (vm_name, pool, generation, status, created_at, owner) VALUES ('auth-off-vm', 'p', 1, 'checked_out', ?, 'alice')",
      )
      .run(new Date().toISOString());
    const res = await offApp.handle(new Request("http://localhost/v1/vms/auth-off-vm", { method: "DELETE" }));
    expect(res.status).toBe(404);
  });
});
