// Every listener's /openapi.json passes Redocly's strict lint (offline): whatever fronts are mounted, each route documents its success and error bodies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createConfig, lintFromString, type NormalizedProblem } from "@redocly/openapi-core";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { createApp } from "../../../src/routes/app.ts";
import { FRONTS, frontNamed } from "../../../src/routes/fronts/registry.ts";
import { testConfig, testCore } from "../../support/core.ts";

// Every front enabled, PVC (never on the main listener) and sysadm on listeners of their own; the addresses are never opened.
const config = testConfig(`
[network]
manage_bridges = false
[auth]
enabled = true
[pvc]
enabled = true
listen = "127.0.0.1:1"
[sysadm]
enabled = true
listen_ws = "127.0.0.1:2"
listen_rest = "127.0.0.1:3"
`);

let core: Awaited<ReturnType<typeof testCore>>;
beforeAll(async () => {
  core = await testCore(config);
});
afterAll(() => core.close());

/** Redocly's strict set, plus: a success has a body (204 none), a used tag is declared, no bare `default` for success. */
const lintConfig = await createConfig({
  extends: ["recommended-strict"],
  rules: {
    // berth's package declares no license.
    "info-license": "off",
    "info-license-strict": "off",
    "operation-2xx-response": { severity: "error", disallowDefault: true },
    "operation-tag-defined": "error",
    "rule/success-has-body": {
      subject: { type: "Response", filterInParentKeys: ["200", "201", "202", "203", "206"] },
      assertions: { required: ["content"] },
      message: "a success documents its body (the route's `response` or `detail.responses`)",
      severity: "error",
    },
    "rule/no-content-has-no-body": {
      subject: { type: "Response", filterInParentKeys: ["204", "304"] },
      assertions: { disallowed: ["content"] },
      message: "a 204 has no body",
      severity: "error",
    },
  },
});

const where = (p: NormalizedProblem) => p.location.map((l) => l.pointer).join(" ");

async function lintDocument(source: string): Promise<string[]> {
  const problems = await lintFromString({ source, absoluteRef: "/openapi.json", config: lintConfig });
  return problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${where(p)}`);
}

test("the lint is not toothless: it finds 3.0's nullable, a body on a 204, a success with no body, a mistyped example, no security", async () => {
  const bad = {
    openapi: "3.1.1",
    info: { title: "t", version: "1", description: "d" },
    servers: [{ url: "/" }],
    tags: [{ name: "a", description: "a" }],
    paths: {
      "/a": {
        get: {
          operationId: "getA",
          tags: ["a"],
          summary: "a",
          security: [{}],
          responses: {
            "200": {
              description: "ok",
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    properties: { n: { type: ["integer", "null"], nullable: true } },
                  },
                  example: { n: "1" },
                },
              },
            },
            "400": { description: "bad" },
          },
        },
        delete: {
          operationId: "deleteA",
          tags: ["a"],
          summary: "a",
          responses: {
            "204": { description: "gone", content: { "application/json": { schema: {} } } },
            "400": { description: "bad" },
          },
        },
        post: {
          operationId: "postA",
          tags: ["a"],
          summary: "a",
          security: [{}],
          responses: { "200": { description: "ok" }, "400": { description: "bad" } },
        },
      },
    },
  };
  const rules = new Set((await lintDocument(JSON.stringify(bad))).map((l) => l.split(":")[0]));
  expect([...rules].sort()).toEqual(
    [
      "error no-invalid-media-type-examples",
      "error rule/no-content-has-no-body",
      "error rule/success-has-body",
      "error security-defined",
      "error struct",
    ].sort(),
  );
});

// A listener with no HTTP front (sysadm's WebSocket one) has no document.
for (const listener of listenerPlan(config).filter((l) => l.fronts.length > 0)) {
  const fronts = listener.fronts.map((f) => f.front);
  test(`the /openapi.json of the listener serving ${fronts.join(", ")} documents each of them and lints with no problem`, async () => {
    const app = createApp(core, listener);
    const res = await app.handle(new Request("http://localhost/openapi.json"));
    expect(res.status).toBe(200);
    const source = await res.text();
    const lines = await lintDocument(source);
    if (lines.length > 0)
      console.error(`${lines.length} problems in ${fronts.join(", ")}'s document:\n${lines.join("\n")}`);
    expect(lines).toEqual([]);
    const doc = JSON.parse(source) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    const tagged = new Set(
      Object.values(doc.paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])),
    );
    for (const front of fronts)
      expect({ front, documented: frontNamed(front).tags.some((t) => tagged.has(t)) }).toEqual({
        front,
        documented: true,
      });
  });
}

test("a listener with no HTTP front serves no document", async () => {
  const socketOnly = listenerPlan(config).filter((l) => l.fronts.length === 0);
  expect(socketOnly.length).toBe(1);
  for (const l of socketOnly) {
    expect((await createApp(core, l).handle(new Request("http://localhost/openapi.json"))).status).toBe(404);
  }
});

test("the lint above covers every front berth has (PVC on its own listener)", () => {
  const placed = listenerPlan(config).flatMap((l) => l.fronts.map((f) => f.front));
  expect(new Set(placed)).toEqual(new Set(FRONTS.map((f) => f.name)));
});
