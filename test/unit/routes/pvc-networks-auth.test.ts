// With auth on, PVC's network, DHCP and ACL endpoints: changes and the DHCP/ACL views are for admins; the network list for any user.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { issueToken } from "../../../src/core/auth/index.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";
import type { Json } from "../../support/http.ts";

const TABLE = `ba${process.pid}`;
let core: Awaited<ReturnType<typeof testCore>>;
let send: (
  path: string,
  token: string,
  fields?: Record<string, string>,
) => Promise<{ status: number; body: Json }>;
const tok = { user: "", root: "" };

beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const user = (name: string, extra: string) =>
    `[[auth.users]]\nname = "${name}"\npassword_hash = "${hash}"\n${extra}\n`;
  core = await testCore(
    testConfig(
      `[pvc]\nlisten = "127.0.0.1:1"\nacl_table = "${TABLE}"\n[network]\nmanage_bridges = false\n[auth]\nenabled = true\n` +
        user("user", "") +
        user("root", "admin = true"),
    ),
  );
  tok.user = issueToken(core, { name: "user", admin: false, tokenId: null }).token;
  tok.root = issueToken(core, { name: "root", admin: true, tokenId: null }).token;
  const app = createApp(
    core,
    listenerPlan(core.config).find((l) => l.fronts.some((f) => f.front === "pvc")),
  );
  send = async (path, token, fields) => {
    const body = new URLSearchParams({ ...fields, token });
    const init: RequestInit = fields
      ? {
          method: "POST",
          body: body.toString(),
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }
      : { method: "GET" };
    const url = fields ? path : `${path}${path.includes("?") ? "&" : "?"}${body}`;
    const res = await app.handle(new Request(`http://localhost/api/v1${url}`, init));
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
});
afterAll(async () => {
  Bun.spawnSync(["nft", "delete", "table", "inet", TABLE], { stderr: "ignore" });
  await core.close();
});

const MANAGED = { vni: "300", nettype: "managed", ip4_network: "10.130.0.0/24", ip4_gateway: "10.130.0.1" };

test("a user may list networks but not add, reserve, see leases or ACLs, or change ACLs; an admin may", async () => {
  const refused = { status: 510, body: { message: expect.stringMatching(/^ERROR: only an admin may /) } };
  expect(await send("/network/lan300/add", tok.user, MANAGED)).toEqual(refused);
  expect((await send("/network/lan300/add", tok.root, MANAGED)).status).toBe(200);
  expect((await send("/network", tok.user)).body.map((n: Json) => n.vni)).toEqual(["300"]);
  expect(
    await send("/network/lan300/dhcp/52:54:00:00:00:01/add", tok.user, { ipaddress: "10.130.0.5" }),
  ).toEqual(refused);
  expect(
    (await send("/network/lan300/dhcp/52:54:00:00:00:01/add", tok.root, { ipaddress: "10.130.0.5" })).status,
  ).toBe(200);
  expect(await send("/network/lan300/dhcp", tok.user)).toEqual(refused);
  expect((await send("/network/lan300/dhcp", tok.root)).body.length).toBe(1);
  expect(await send("/network/lan300/acl/a/add", tok.user, { direction: "in", rule: "counter" })).toEqual(
    refused,
  );
  expect(
    (await send("/network/lan300/acl/a/add", tok.root, { direction: "in", rule: "counter" })).status,
  ).toBe(200);
  expect(await send("/network/lan300/acl", tok.user)).toEqual(refused);
  expect(await send("/network/lan300/acl/a/remove", tok.user, {})).toEqual(refused);
  expect(await send("/network/lan300/remove", tok.user, {})).toEqual(refused);
  expect((await send("/network/lan300/remove", tok.root, {})).status).toBe(200);
});
