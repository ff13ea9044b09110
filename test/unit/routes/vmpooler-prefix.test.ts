// [vmpooler] prefix moves the whole front (and the auth guard's rules with it); it may not shadow another front.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { ConfigError } from "../../../src/errors.ts";
import { apiClient, basicAuth } from "../../support/api.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "uvpx";
const POOL = `${P}-deb`;
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[vmpooler]\nprefix = "/api/v2"\n[auth]\nenabled = true\npublic_reads = true\n[[auth.users]]\nname = "ann"\npassword_hash = "${hash}"`,
  );
  createPool(core, SYSTEM, { name: POOL, profile: `${P}-tiny`, size: 1 });
  await fill(core, POOL, 1);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

test("the front answers under the prefix only, and the guard's token, password and owner rules follow it", async () => {
  expect((await api.get("/api/v2/vm")).body).toEqual([POOL]);
  const moved = await api.get("/api/v1/vm");
  expect(moved.status).toBe(404);
  expect(moved.body.error.code).toBe("not_found"); // no longer vmpooler's path: the native shape
  const unknown = await api.get("/api/v2/nope");
  expect(unknown.status).toBe(404);
  expect(unknown.body).toEqual({ ok: false, reason: expect.any(String) });
  const anonymous = await api.post(`/api/v2/ondemandvm/${POOL}`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.ok).toBe(false); // the guard answers in vmpooler's shape under the new prefix
  const issued = await api.send("POST", "/api/v2/token", { authorization: basicAuth("ann", "pw") });
  expect(issued.status).toBe(200);
  const token = issued.body.token as string;
  const got = await api.send("POST", `/api/v2/vm/${POOL}`, { "x-auth-token": token });
  expect(got.status).toBe(200);
  const host = got.body[POOL].hostname as string;
  expect((await api.get(`/api/v2/vm/${host}`)).body[host].state).toBe("running");
  const del = await api.send("DELETE", `/api/v2/vm/${host}`, { "x-auth-token": token });
  expect(del.status).toBe(200);
});

test("a prefix over another front's paths, or with other characters, is a config error", () => {
  for (const prefix of [
    "/v1",
    "/hosts",
    "/networks/x",
    "/healthz",
    "api/v1",
    "/api/v1/",
    "/a.b",
    "/api/(x)",
  ]) {
    expect(() => parseConfig(`[vmpooler]\nprefix = "${prefix}"`, "t")).toThrow(ConfigError);
  }
  expect(parseConfig('[vmpooler]\nprefix = "/vmpooler/api/v1"', "t").vmpooler.prefix).toBe(
    "/vmpooler/api/v1",
  );
});
