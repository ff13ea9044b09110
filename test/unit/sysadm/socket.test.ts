// sysadm's WebSocket front over real wss (the certificate berth made, pinned): the rpc handshake, framing, error replies, the auth timeout.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { hostname } from "node:os";
import { SysadmClient } from "./client.ts";
import { type SysadmBerth, sysadmBerth } from "./support.ts";

let s: SysadmBerth;
const open: SysadmClient[] = [];
const client = async () => {
  const c = await SysadmClient.open(s.ws, s.ca);
  open.push(c);
  return c;
};

beforeAll(async () => {
  s = await sysadmBerth("sadsock");
});
afterAll(async () => {
  for (const c of open) c.close();
  await s?.berth.stop();
});

const error = (id: string, code: string, message: string) => ({
  namespace: "error",
  name: "error",
  id,
  args: { code, message },
});

test("berth made a self-signed pair (key 0600) and serves wss with it; a client that does not trust it is refused", async () => {
  expect(statSync(s.keyFile).mode & 0o777).toBe(0o600);
  expect(s.ca).toContain("BEGIN CERTIFICATE");
  const untrusting = new WebSocket(`wss://${s.ws}/`);
  const outcome = await new Promise<string>((resolve) => {
    untrusting.addEventListener("open", () => resolve("open"));
    untrusting.addEventListener("error", () => resolve("error"));
  });
  expect(outcome).toBe("error");
  // Plain ws is no way in either.
  const plain = new WebSocket(`ws://${s.ws}/`);
  const plainOutcome = await new Promise<string>((resolve) => {
    plain.addEventListener("open", () => resolve("open"));
    plain.addEventListener("error", () => resolve("error"));
    plain.addEventListener("close", () => resolve("error"));
  });
  expect(plainOutcome).toBe("error");
});

test("the handshake: identify, a wrong password's 401, auth's [token, seconds], query, auth_token, auth_clear, auth_ssl", async () => {
  const c = await client();
  expect(await c.request("rpc", "identify", "", "sysadm_client_identify")).toEqual({
    namespace: "rpc",
    name: "response",
    id: "sysadm_client_identify",
    args: { type: "server", hostname: hostname() },
  });
  // Before a login every other request is a 401.
  expect(await c.request("sysadm", "iohyve", { action: "listvms" }, "early")).toEqual(
    error("early", "401", "Unauthorized"),
  );
  expect(await c.login("root", "nope")).toEqual(
    expect.objectContaining({ namespace: "error", name: "error" }),
  );
  const ok = await c.request(
    "rpc",
    "auth",
    { username: "root", password: "root-pw" },
    "sysadm-client-auth-auto",
  );
  expect(ok).toEqual({
    namespace: "rpc",
    name: "response",
    id: "sysadm-client-auth-auto",
    args: [expect.stringMatching(/^[A-Za-z0-9]{20}$/), 900],
  });
  const token = (ok.args as [string, number])[0];
  expect((await c.request("rpc", "query", "")).args).toEqual({
    "sysadm/iohyve": "read/write",
    "sysadm/network": "read",
    "sysadm/zfs": "read",
  });
  expect((await c.iohyve({ action: "issetup" })).issetup).toEqual({ setup: "true" });

  // The token logs another socket in; auth_clear forgets it (no reply), then requests are 401 again.
  const d = await client();
  expect((await d.request("rpc", "auth_token", { token })).args).toEqual([token, 900]);
  d.sendRaw(JSON.stringify({ namespace: "rpc", name: "auth_clear", id: "clear", args: "" }));
  expect(await d.request("sysadm", "iohyve", { action: "version" }, "after")).toEqual(
    error("after", "401", "Unauthorized"),
  );
  expect(d.frames.find((f) => f.id === "clear")).toBeUndefined();
  expect(await d.request("rpc", "auth_token", { token }, "again")).toEqual(
    error("again", "401", "Unauthorized"),
  );
  expect(await d.request("rpc", "auth_ssl", "", "ssl")).toEqual(error("ssl", "401", "Unauthorized"));
});

test("framing: replies echo namespace and id; bad JSON, a bad action or key are 400, an unknown class 404, an action's failure in band", async () => {
  const c = await client();
  await c.login("alice", "alice-pw");
  c.sendRaw("{not json");
  expect(await c.next((f) => f.namespace === "error")).toEqual(error("", "400", "Bad Request"));
  expect(await c.request("sysadm", "iohyve", { action: "fly" }, "a1")).toEqual(
    error("a1", "400", "unknown action fly"),
  );
  expect(await c.request("sysadm", "iohyve", { action: "start", name: "x", extra: "1" }, "a2")).toEqual(
    error("a2", "400", "action start takes no key extra"),
  );
  expect(await c.request("sysadm", "pkg", { action: "list" }, "a3")).toEqual(
    error("a3", "404", "no subsystem sysadm/pkg"),
  );
  expect(await c.request("sysadm", "iohyve", { action: "start" }, "a4")).toEqual({
    namespace: "sysadm",
    name: "response",
    id: "a4",
    args: { start: { error: "Missing required key 'name'" } },
  });
  // A request without an id is answered with its own name, as sysadm did.
  c.sendRaw(JSON.stringify({ namespace: "rpc", name: "identify", args: "" }));
  expect(await c.next((f) => f.name === "identify")).toEqual(
    expect.objectContaining({ namespace: "rpc", name: "identify", id: "" }),
  );
});

test("a socket not authenticated within the timeout is closed; a logged-in one stays", async () => {
  const idle = await client();
  const loggedIn = await client();
  await loggedIn.login("alice", "alice-pw");
  const closed = await Promise.race([idle.closed.then(() => "closed"), Bun.sleep(5000).then(() => "open")]);
  expect(closed).toBe("closed");
  expect(loggedIn.ws.readyState).toBe(WebSocket.OPEN);
  expect((await loggedIn.iohyve({ action: "version" })).version).toEqual({
    version: expect.stringMatching(/^berth /),
  });
});
