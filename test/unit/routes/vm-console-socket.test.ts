// The console WebSocket's refusals on test:///default, answered as HTTP before any upgrade: 401, 403, 404, 409.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../../src/routes/app.ts";
import { socketToken, tokenProtocol } from "../../../src/routes/socket-protocol.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { json } from "../../support/http.ts";
import { insertVmRow } from "../../support/vm-rows.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let app: ReturnType<typeof createApp>;
const tokens: Record<string, string> = {};

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;
const UPGRADE = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};
const attach = (path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers: { ...UPGRADE, ...headers } }));
const bearer = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });

beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  const user = (name: string, admin = false) =>
    `[[auth.users]]\nname = "${name}"\npassword_hash = "${hash}"\nadmin = ${admin}\n`;
  core = await testCore(
    testConfig(`[auth]\nenabled = true\n${user("alice")}${user("bob")}${user("root", true)}`),
  );
  app = createApp(core);
  for (const name of ["alice", "bob", "root"]) {
    const r = await app.handle(
      new Request("http://localhost/v1/tokens", {
        method: "POST",
        headers: { authorization: basic(name, "pw") },
      }),
    );
    expect(r.status).toBe(201);
    tokens[name] = (await json(r)).token;
  }
  // "test" is the test driver's running domain; "off-1" has no domain at all.
  insertVmRow(core.db, { id: "vm-test", name: "test", owner: "alice" });
  insertVmRow(core.db, { id: "vm-off", name: "off-1", owner: "alice", status: "stopped" });
});
afterAll(() => core.close());

const errorOf = async (r: Response) => ({ status: r.status, code: (await json(r)).error?.code as string });

describe("GET /v1/vms/{name}/console upgraded to a WebSocket", () => {
  test("no token: 401 before anything is looked up; without the upgrade the same path stays the log tail", async () => {
    expect(await errorOf(await attach("/v1/vms/test/console"))).toEqual({
      status: 401,
      code: "unauthorized",
    });
    const tail = await app.handle(
      new Request("http://localhost/v1/vms/off-1/console", { headers: bearer("alice") }),
    );
    expect(tail.status).toBe(200);
    expect((await json(tail)).lines).toEqual([]);
  });

  test("the owner gets past every check to libvirt (the test driver has no consoles: 502, the VM's slot freed); bob is refused (404, hidden); an unknown VM is 404 for an admin", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await attach("/v1/vms/test/console", bearer("alice"));
      expect(r.status).toBe(502);
      expect((await json(r)).error.details).toMatchObject({ op: "console.open", libvirtCode: 3 });
      expect(core.hv.consoles.sessions()).toEqual([]);
    }
    expect((await attach("/v1/vms/test/console", bearer("bob"))).status).toBe(404);
    expect((await attach("/v1/vms/nope-1/console", bearer("root"))).status).toBe(404);
  });

  test("a token is read from a subprotocol (alice reaches libvirt, bob is refused), never from the URL (400)", async () => {
    const as = (user: string) => ({
      "sec-websocket-protocol": `berth.console, ${tokenProtocol(tokens[user] as string)}`,
    });
    expect((await attach("/v1/vms/test/console", as("alice"))).status).toBe(502);
    expect((await attach("/v1/vms/test/console", as("bob"))).status).toBe(404);
    expect((await attach(`/v1/vms/test/console?token=${tokens.alice}`)).status).toBe(400);
  });

  test("the owner may not force a takeover: only an admin (403)", async () => {
    expect(await errorOf(await attach("/v1/vms/test/console?force=1", bearer("alice")))).toEqual({
      status: 403,
      code: "forbidden",
    });
  });

  test("a browser page of another origin is refused (403), even with the owner's token", async () => {
    const r = await attach("/v1/vms/test/console", { ...bearer("alice"), origin: "http://evil.example" });
    expect(r.status).toBe(403);
    expect((await json(r)).error.message).toContain("origin http://evil.example");
  });

  test("a VM without a running domain: 409 not running", async () => {
    const r = await attach("/v1/vms/off-1/console", bearer("alice"));
    expect(r.status).toBe(409);
    expect((await json(r)).error.message).toContain("is not running");
  });
});

describe("the subprotocol token", () => {
  test("is read from a WebSocket upgrade only, never from a plain request", () => {
    const p = tokenProtocol("abc_DEF-123");
    const up = new Request("http://localhost/", {
      headers: { ...UPGRADE, "sec-websocket-protocol": `berth.console, ${p}` },
    });
    expect(socketToken(up)).toBe("abc_DEF-123");
    const plain = new Request("http://localhost/", { headers: { "sec-websocket-protocol": p } });
    expect(socketToken(plain)).toBeNull();
  });
});
