// PVC's Ceph cluster endpoints without a Ceph cluster: every one is PVC's 510 saying so, removals first want their flag (599), changes are an admin's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { issueToken } from "../../../src/core/auth/tokens.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";

type Core = Awaited<ReturnType<typeof testCore>>;
const CEPH = "/api/v1/storage/ceph";
const NO_CEPH = { message: "ERROR: no Ceph cluster is configured on this host" };
const CONFIRM = {
  message:
    "ERROR: This command can have unintended consequences and should not be automated. To confirm, resend with the argument 'flag_yes_i_really_mean_it'.",
};

/** Every Ceph endpoint of PVC's manual, with the values it documents. */
const READS = [
  "",
  "/status",
  "/df",
  "/osd",
  "/osd?limit=1",
  "/osd/0",
  "/pool",
  "/pool?limit=rbd",
  "/pool/rbd",
];
const CHANGES: [string, Record<string, string>][] = [
  ["/osd/set", { option: "noout" }],
  ["/osd/unset", { option: "noout" }],
  ["/osd/node1/add", { device: "/dev/sdb", weight: "1.0" }],
  ["/osd/0/in", {}],
  ["/osd/0/out", {}],
  ["/pool/rbd/add", { pgs: "128" }],
];
const REMOVALS = ["/osd/0/remove", "/pool/rbd/remove"];

function target(toml: () => Promise<string>) {
  const env = {} as {
    core: Core;
    send: (
      method: string,
      path: string,
      form?: Record<string, string>,
    ) => Promise<{ status: number; body: unknown }>;
  };
  beforeAll(async () => {
    env.core = await testCore(testConfig(`[pvc]\nlisten = "127.0.0.1:1"\n${await toml()}`));
    const app = createApp(
      env.core,
      listenerPlan(env.core.config).find((l) => l.fronts.some((f) => f.front === "pvc")),
    );
    env.send = async (method, path, form) => {
      const init: RequestInit = { method };
      if (form) {
        init.body = new URLSearchParams(form).toString();
        init.headers = { "content-type": "application/x-www-form-urlencoded" };
      }
      const res = await app.handle(new Request(`http://localhost${path}`, init));
      return { status: res.status, body: await res.json() };
    };
  });
  afterAll(async () => await env.core.close());
  return env;
}

describe("auth off", () => {
  const t = target(async () => "");

  test("every read is PVC's 510 naming the missing cluster, never invented data", async () => {
    for (const path of READS) {
      expect({ path, ...(await t.send("GET", `${CEPH}${path}`)) }).toEqual({
        path,
        status: 510,
        body: NO_CEPH,
      });
    }
  });

  test("every change is the same 510", async () => {
    for (const [path, form] of CHANGES) {
      expect({ path, ...(await t.send("POST", `${CEPH}${path}`, form)) }).toEqual({
        path,
        status: 510,
        body: NO_CEPH,
      });
    }
  });

  test("removals without flag_yes_i_really_mean_it are 599 before anything else; with it (any value), the 510", async () => {
    for (const path of REMOVALS) {
      expect({ path, ...(await t.send("POST", `${CEPH}${path}`)) }).toEqual({
        path,
        status: 599,
        body: CONFIRM,
      });
      const flagged = await t.send("POST", `${CEPH}${path}?flag_yes_i_really_mean_it=false`);
      expect({ path, ...flagged }).toEqual({ path, status: 510, body: NO_CEPH });
      const inForm = await t.send("POST", `${CEPH}${path}`, { flag_yes_i_really_mean_it: "" });
      expect({ path, ...inForm }).toEqual({ path, status: 510, body: NO_CEPH });
    }
  });
});

describe("auth on", () => {
  const user = async (name: string, admin = false) =>
    `[[auth.users]]\nname = "${name}"\nadmin = ${admin}\npassword_hash = "${await Bun.password.hash(name, { algorithm: "argon2id" })}"\n`;
  const t = target(async () => `[auth]\nenabled = true\n${await user("root", true)}${await user("alice")}`);
  const tokens: Record<string, string> = {};
  beforeAll(() => {
    for (const name of ["root", "alice"]) {
      tokens[name] = issueToken(t.core, { name, admin: name === "root", tokenId: null }).token;
    }
  });

  test("no token: 401; a user reads the 510; a user's change is refused as only an admin's; an admin's is the 510", async () => {
    expect((await t.send("GET", `${CEPH}/status`)).status).toBe(401);
    expect(await t.send("GET", `${CEPH}/status?token=${tokens.alice}`)).toEqual({
      status: 510,
      body: NO_CEPH,
    });
    const refused = await t.send("POST", `${CEPH}/pool/rbd/add?token=${tokens.alice}`, { pgs: "128" });
    expect(refused).toEqual({ status: 510, body: { message: "ERROR: only an admin may add a Ceph pool" } });
    expect(await t.send("POST", `${CEPH}/pool/rbd/add?token=${tokens.root}`, { pgs: "128" })).toEqual({
      status: 510,
      body: NO_CEPH,
    });
    // The flag comes first, for everyone.
    expect((await t.send("POST", `${CEPH}/pool/rbd/remove?token=${tokens.alice}`)).status).toBe(599);
  });
});
