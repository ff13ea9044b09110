// Audit lines for password logins on every front that takes a user name and password: success and failure, never the password.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { setLogSink } from "../../../src/log.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";

const PASSWORD = "alice-secret-pw";
const WRONG = "wrong-secret-pw";
let core: Awaited<ReturnType<typeof testCore>>;
let main: ReturnType<typeof createApp>;
let pvc: ReturnType<typeof createApp>;
const lines: string[] = [];
let restore: () => void;

beforeAll(async () => {
  const hash = await Bun.password.hash(PASSWORD, { algorithm: "argon2id" });
  core = await testCore(
    testConfig(`[pvc]
listen = "127.0.0.1:1"
[sysadm]
enabled = true
listen_ws = ""
listen_rest = ""
[auth]
enabled = true
[[auth.users]]
name = "alice"
password_hash = "${hash}"
`),
  );
  const plans = listenerPlan(core.config);
  main = createApp(core);
  pvc = createApp(
    core,
    plans.find((p) => p.fronts.some((f) => f.front === "pvc")),
  );
  restore = setLogSink((l) => lines.push(l));
}, 30_000);
afterAll(async () => {
  restore();
  await core.close();
});

const basic = (pw: string) => `Basic ${Buffer.from(`alice:${pw}`).toString("base64")}`;
const kahuForm = (pw: string) => ({
  body: new URLSearchParams({ role: "alice", password: pw }).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

/** Each front's password login: the app, method, path and request (its password given). */
const FRONTS: Record<string, (pw: string) => [ReturnType<typeof createApp>, string, string, RequestInit]> = {
  native: (pw) => [main, "POST", "/v1/tokens", { headers: { authorization: basic(pw) } }],
  vmpooler: (pw) => [main, "POST", "/api/v1/token", { headers: { authorization: basic(pw) } }],
  kahu: (pw) => [main, "POST", "/v0/auth/login", kahuForm(pw)],
  pvc: (pw) => [pvc, "GET", "/api/v1/vm", { headers: { authorization: basic(pw) } }],
  sysadm: (pw) => [main, "PUT", "/sysadm/iohyve", { headers: { authorization: basic(pw) }, body: "{}" }],
};

async function login(front: string, pw: string) {
  const [app, method, path, init] = (
    FRONTS[front] as (pw: string) => [typeof main, string, string, RequestInit]
  )(pw);
  const from = lines.length;
  const res = await app.handle(new Request(`http://localhost${path}`, { method, ...init }));
  const logged = lines.slice(from);
  return {
    status: res.status,
    logged,
    audits: logged.map((l) => JSON.parse(l)).filter((l) => l.msg === "auth.login"),
  };
}

describe("password logins are audited", () => {
  for (const front of Object.keys(FRONTS)) {
    test(`${front}: success and failure each write one auth.login line without the password`, async () => {
      const ok = await login(front, PASSWORD);
      expect([401, 403, 429]).not.toContain(ok.status);
      expect(ok.audits).toEqual([
        expect.objectContaining({ audit: true, level: "info", user: "alice", outcome: "success", front }),
      ]);
      const bad = await login(front, WRONG);
      expect(bad.status).toBe(401);
      expect(bad.audits).toEqual([
        expect.objectContaining({ audit: true, level: "warn", user: "alice", outcome: "failure", front }),
      ]);
      for (const l of [...ok.logged, ...bad.logged]) {
        expect(l).not.toContain(PASSWORD);
        expect(l).not.toContain(WRONG);
        expect(l).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString("base64"));
      }
    }, 30_000);
  }
});
