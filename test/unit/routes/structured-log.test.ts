// The structured log through app.handle: JSON lines, an access line per request, audit lines for token changes, no secret.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setLogSink } from "../../../src/log.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";
import { json } from "../../support/http.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let app: ReturnType<typeof createApp>;
const lines: string[] = [];
let restore: () => void;
beforeAll(async () => {
  const alice = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
  core = await testCore(
    testConfig(`[auth]
enabled = true
[[auth.users]]
name = "alice"
password_hash = "${alice}"
`),
  );
  app = createApp(core);
  restore = setLogSink((l) => lines.push(l));
});
afterAll(async () => {
  restore();
  await core.close();
});

const basic = `Basic ${Buffer.from("alice:alice-pw").toString("base64")}`;
/** One request, returned once its access line is written (Elysia logs after the response is handed back). */
const call = async (method: string, path: string, headers: Record<string, string> = {}) => {
  const from = lines.length;
  const res = await app.handle(new Request(`http://localhost${path}`, { method, headers }));
  for (let i = 0; i < 200 && !lines.slice(from).some((l) => l.includes('"msg":"access"')); i++)
    await Bun.sleep(5);
  return res;
};
/** The lines logged since `from`, parsed: each must be one JSON object. */
const since = (from: number) => lines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("structured log", () => {
  test("every line is one JSON object with time, level and msg", async () => {
    const from = lines.length;
    await call("GET", "/v1/status");
    expect(lines.length).toBeGreaterThan(from);
    for (const l of lines.slice(from)) {
      expect(l.endsWith("\n")).toBe(true);
      expect(l.slice(0, -1)).not.toContain("\n");
      const o = JSON.parse(l);
      expect(Number.isNaN(Date.parse(o.time))).toBe(false);
      expect(["debug", "info", "warn", "error"]).toContain(o.level);
      expect(typeof o.msg).toBe("string");
    }
  });

  test("access line: method, path without its query, status, ms, user, front, for a 201, a refused 401 and a 404", async () => {
    let from = lines.length;
    const issued = await call("POST", "/v1/tokens?password=alice-pw", { authorization: basic });
    expect(issued.status).toBe(201);
    const token: string = (await json(issued)).token;
    const access = since(from).filter((o) => o.msg === "access");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      method: "POST",
      path: "/v1/tokens",
      status: 201,
      user: "alice",
      front: "native",
    });
    expect(typeof access[0]?.ms).toBe("number");

    from = lines.length;
    const refused = await call("DELETE", "/v1/vms/nope?token=zzz");
    expect(refused.status).toBe(401);
    expect(since(from).filter((o) => o.msg === "access")).toEqual([
      expect.objectContaining({ method: "DELETE", path: "/v1/vms/nope", status: 401, user: null }),
    ]);

    from = lines.length;
    const missing = await call("GET", "/v1/vms/nope", { "x-auth-token": token });
    expect(missing.status).toBe(404);
    expect(since(from).filter((o) => o.msg === "access")).toEqual([
      expect.objectContaining({ method: "GET", path: "/v1/vms/nope", status: 404, user: "alice" }),
    ]);
    const all = lines.join("");
    expect(all).not.toContain(token);
    expect(all).not.toContain("alice-pw");
    expect(all).not.toContain("zzz");
  });

  test("audit lines for token issue and revoke, with the token's id and never the token", async () => {
    let from = lines.length;
    const issued = await json(await call("POST", "/v1/tokens", { authorization: basic }));
    const issue = since(from).filter((o) => o.audit === true);
    // Issuing takes the password: its login is audited first (test/unit/routes/login-audit.test.ts).
    expect(issue).toEqual([
      expect.objectContaining({ level: "info", msg: "auth.login", user: "alice", outcome: "success" }),
      expect.objectContaining({ level: "info", msg: "token.issued", target: "user/alice", id: issued.id }),
    ]);
    from = lines.length;
    const revoked = await call("DELETE", `/v1/tokens/${issued.id}`, { "x-auth-token": issued.token });
    expect(revoked.status).toBeLessThan(300);
    expect(since(from).filter((o) => o.audit === true)).toEqual([
      expect.objectContaining({ level: "info", msg: "token.revoked", target: "user/alice", id: issued.id }),
    ]);
    expect(lines.join("")).not.toContain(issued.token);
  });
});
