// Every listener's /openapi.json passes Redocly's strict lint (offline): whatever fronts are mounted, each route documents its success and error bodies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createConfig, lintFromString, type NormalizedProblem } from "@redocly/openapi-core";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";

// Every front enabled, PVC (never on the main listener) on a listener of its own; the addresses are never opened.
const config = testConfig(`
[network]
manage_bridges = false
[auth]
enabled = true
[pvc]
enabled = true
listen = "127.0.0.1:1"
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

for (const listener of listenerPlan(config)) {
  const fronts = listener.fronts.map((f) => f.front).join(", ");
  test(`the /openapi.json of the listener serving ${fronts} lints with no problem`, async () => {
    const app = createApp(core, listener);
    const res = await app.handle(new Request("http://localhost/openapi.json"));
    expect(res.status).toBe(200);
    const source = await res.text();
    const problems = await lintFromString({ source, absoluteRef: "/openapi.json", config: lintConfig });
    const lines = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${where(p)}`);
    if (lines.length > 0)
      console.error(`${lines.length} problems in ${fronts}'s document:\n${lines.join("\n")}`);
    expect(lines).toEqual([]);
    // Every front placed on this listener is in its document.
    const doc = JSON.parse(source) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    const tagged = new Set(
      Object.values(doc.paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])),
    );
    expect(tagged.size).toBeGreaterThan(0);
  });
}

test("every front berth has is documented on some listener", () => {
  const placed = new Set(listenerPlan(config).flatMap((l) => l.fronts.map((f) => f.front)));
  expect([...placed].sort()).toEqual(["kahu", "native", "pvc", "staging", "vmpooler"]);
});
