// The contract every front of the registry keeps on every listener it is served on, with auth on and off: its error shape and statuses, and core's ownership.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { claimedPaths, type ListenerPlan, listenerPlan } from "../../../src/config/fronts.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { createSize } from "../../../src/core/sizes.ts";
import { createApp } from "../../../src/routes/app.ts";
import { FRONTS } from "../../../src/routes/fronts/registry.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";
import { type Call, contractCases, type Send } from "./front-contract-cases.ts";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

async function users(): Promise<string> {
  const hash = (pw: string) => Bun.password.hash(pw, { algorithm: "argon2id" });
  const user = async (name: string, admin = false) =>
    `[[auth.users]]\nname = "${name}"\npassword_hash = "${await hash(`${name}-pw`)}"\nadmin = ${admin}\n`;
  return `[auth]\nenabled = true\n${await user("root", true)}${await user("alice")}${await user("bob")}`;
}

/** Every front that may have one gets a listener of its own (answered through app.handle: nothing binds). */
const OWN_LISTENERS =
  '[staging]\nlisten = "127.0.0.1:1"\n[vmpooler]\nlisten = "127.0.0.1:2"\n[kahu]\nlisten = "127.0.0.1:3"\n[pvc]\nlisten = "127.0.0.1:4"\n[sysadm]\nlisten_rest = "127.0.0.1:5"\nlisten_ws = "127.0.0.1:6"\n';

/** Each listener of a config like the contract target's, and the fronts on it: known before the core exists. */
const PLAN = listenerPlan(parseConfig(OWN_LISTENERS, "t"));

type Sender = (call: Call, token?: string, raw?: string) => ReturnType<Send>;

/**
 * A core with one vmpooler pool of ready VMs and an app per listener over it; `auth` turns [auth] on
 * with root (admin), alice and bob. `send[address]` talks to one listener.
 */
function contractTarget(prefix: string, auth: boolean) {
  const env = {} as {
    core: Awaited<ReturnType<typeof poolCore>>;
    send: Record<string, Sender>;
    tokens: Record<string, string>;
  };
  beforeAll(async () => {
    env.core = await poolCore(prefix, `${OWN_LISTENERS}${auth ? await users() : ""}`);
    createPool(env.core, SYSTEM, { name: `${prefix}-pool`, profile: `${prefix}-tiny`, size: 2 });
    createSize(env.core, SYSTEM, { name: `${prefix}-tiny`, vcpus: 1, memory_mib: 64 });
    await fill(env.core, `${prefix}-pool`, 2);
    env.send = {};
    for (const plan of listenerPlan(env.core.config)) {
      env.send[plan.address] = sender(createApp(env.core, plan));
    }
    env.tokens = {};
    if (!auth) return;
    for (const name of ["root", "alice", "bob"]) {
      const basic = `Basic ${Buffer.from(`${name}:${name}-pw`).toString("base64")}`;
      const res = await createApp(env.core).handle(
        new Request("http://localhost/v1/tokens", { method: "POST", headers: { authorization: basic } }),
      );
      env.tokens[name] = ((await res.json()) as { token: string }).token;
    }
  });
  afterAll(async () => {
    await cleanup(env.core);
    await env.core.close();
  });
  return env;
}

function sender(app: ReturnType<typeof createApp>): Sender {
  return async (call: Call, token?: string, raw?: string) => {
    const headers: Record<string, string> = token ? { "x-auth-token": token } : {};
    const init: RequestInit = { method: call.method, headers };
    if (call.body !== undefined || raw !== undefined) {
      init.body = raw ?? JSON.stringify(call.body);
      headers["content-type"] = "application/json";
    }
    const res = await app.handle(new Request(`http://localhost${call.path}`, init));
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}

/** A path's `:param`s and wildcards filled with a name nothing has. */
const concrete = (path: string) => path.replace(/:[A-Za-z_]+/g, "fc-none").replace(/\*/g, "fc-none");

/** Where the contract runs a front: on each listener the plan places it, under its last base there (the root on vmpooler's own). */
function placements(front: string): { plan: ListenerPlan; bases: readonly string[]; base: string }[] {
  return PLAN.flatMap((plan) =>
    plan.fronts
      .filter((p) => p.front === front)
      .map((p) => ({ plan, bases: p.bases, base: p.bases[p.bases.length - 1] as string })),
  );
}

test("the contract covers every front on the main listener, and each front that may have one on its own", () => {
  const where = FRONTS.map((f) => [f.name, placements(f.name).map((p) => (p.plan.main ? "main" : "own"))]);
  expect(Object.fromEntries(where)).toEqual({
    native: ["main"],
    staging: ["main", "own"],
    vmpooler: ["main", "own"],
    kahu: ["main", "own"],
    pvc: ["own"],
    sysadm: ["main", "own"],
  });
});

for (const auth of [false, true]) {
  describe(`auth ${auth ? "on" : "off"}`, () => {
    const prefix = auth ? "fcon" : "fcoff";
    const t = contractTarget(prefix, auth);
    const main = PLAN[0] as ListenerPlan;

    for (const front of FRONTS) {
      for (const { plan, bases, base } of placements(front.name)) {
        const where = plan.main ? "main listener" : "own listener";
        const send: Sender = (call, token, raw) => (t.send[plan.address] as Sender)(call, token, raw);
        const cases = contractCases(`${prefix}-tiny`, `${prefix}-pool`, base, (call, token) =>
          (t.send[main.address] as Sender)(call, token),
        );
        describe(`${front.name} on its ${where}`, () => {
          const shaped = (r: { status: number; body: unknown }, statuses: number[]) => {
            expect({ status: statuses.includes(r.status), shape: front.isErrorBody(r.body), r }).toEqual({
              status: true,
              shape: true,
              r,
            });
          };
          const own = () =>
            cases[front.name].ownVm(send, t.tokens.alice, `${front.name}-${prefix}-${plan.main ? "m" : "o"}`);
          let vm = "";
          let changes = 0;
          const change = () => cases[front.name].change(vm, changes++);

          test("its cases are declared", () => {
            expect(cases[front.name]).toBeDefined();
          });

          test("an unknown path under each of its paths is 404 in its shape", async () => {
            for (const root of claimedPaths({ front: front.name, bases })) {
              shaped(await send({ method: "GET", path: `${root}/fc-no/such/route` }), [404]);
            }
            if (!plan.main) shaped(await send({ method: "GET", path: "/fc-claimed/by-none" }), [404]);
          });

          test("a body it refuses is refused in its shape: malformed or unknown JSON, or a missing value", async () => {
            vm ||= await own();
            const c = cases[front.name];
            if ("strictBody" in c) {
              const { method, path, valid } = c.strictBody(vm);
              shaped(
                await send({ method, path }, t.tokens.root, `${JSON.stringify(valid).slice(0, -1)},`),
                [400],
              );
              shaped(await send({ method, path, body: { ...valid, fc_unknown: 1 } }, t.tokens.root), [400]);
            } else {
              const { call, statuses } = c.missingValue(vm);
              shaped(await send(call, t.tokens.root), statuses);
            }
          });

          test("its owner and an admin may change a VM", async () => {
            vm ||= await own();
            for (const token of [t.tokens.alice, t.tokens.root]) {
              const r = await send(change(), token);
              expect({ status: r.status < 300, r }).toEqual({ status: true, r });
            }
          });

          if (!auth) return;

          test("every mutating route without a token is 401 in its shape, but its optional-credential ones", async () => {
            const optional = front.auth(t.core.config, bases).optional;
            const routes = front.routes(t.core, bases).routes.filter((r) => MUTATING.has(r.method));
            expect(routes.length).toBeGreaterThan(0);
            for (const r of routes) {
              const path = concrete(r.path);
              if (optional.some((o) => o.method === r.method && o.pattern.test(path))) continue;
              shaped(await send({ method: r.method, path }), [401]);
            }
          });

          test("another user's token on the VM is refused by core (403/404) in its shape", async () => {
            vm ||= await own();
            const next = change();
            shaped(await send(next, t.tokens.bob), cases[front.name].refused ?? [403, 404]);
            // The route exists and the VM is there: the refusal was about who asked.
            expect((await send(next, t.tokens.alice)).status).toBeLessThan(300);
          });
        });
      }
    }
  });
}
