// GET /metrics: strict Prometheus text format, pool gauges, checkout counters, histograms, errors, libvirt state.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { Hypervisor } from "../../../src/core/hypervisor/client.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { escapeLabel, renderMetrics } from "../../../src/core/status/index.ts";
import { apiClient } from "../../support/api.ts";
import { WORKERS } from "../../support/workers.ts";
import { cleanup, fill, poolCore } from "../core/pools-support.ts";

const P = "umetr";
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  core = await poolCore(P);
  api = apiClient(core);
  createPool(core, SYSTEM, { name: `${P}-a`, profile: `${P}-tiny`, size: 2 });
  await fill(core, `${P}-a`, 2);
  createPool(core, SYSTEM, { name: `${P}-b`, profile: `${P}-tiny`, size: 1 });
  // A boot of 10 s and one of 40 s in an ended pool, and a failed operation whose kind needs escaping.
  for (const [name, ready] of [
    ["h1", "2020-01-01T00:00:10.000Z"],
    ["h2", "2020-01-01T00:00:40.000Z"],
  ] as const) {
    core.db
      .query(
        `INSERT INTO pool_history (vm_name, pool, status, created_at, ready_at, ended_at)
         VALUES (?, ?, 'ready', '2020-01-01T00:00:00.000Z', ?, ?)`,
      )
      .run(`${P}-${name}`, `${P}-gone`, ready, ready);
  }
  core.db
    .query(
      `INSERT INTO operations (id, kind, target, status, error, created_at, updated_at, finished_at)
       VALUES (?, ?, 'x', 'failed', 'boom', ?, ?, ?)`,
    )
    .run(
      `${P}-op`,
      'we"ird\\kind',
      "2020-01-01T00:00:00.000Z",
      "2020-01-01T00:00:01.000Z",
      "2020-01-01T00:00:01.000Z",
    );
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

async function scrape(): Promise<{ res: Response; text: string; lines: string[] }> {
  const res = await api.app.handle(new Request("http://localhost/metrics"));
  const text = await res.text();
  return { res, text, lines: text.split("\n").slice(0, -1) };
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(
  `^(${NAME})(\\{${LABEL}(?:,${LABEL})*\\})? (-?[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?|[+-]Inf|NaN)$`,
);
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) (.+)$`);

const value = (lines: string[], sample: string) => {
  const l = lines.find((x) => x.startsWith(`${sample} `));
  return l === undefined ? undefined : Number(l.slice(sample.length + 1));
};

describe("GET /metrics", () => {
  test("text format 0.0.4: every line a HELP/TYPE comment or a sample of a declared family", async () => {
    const { res, text, lines } = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    expect(text.endsWith("\n")).toBe(true);
    const types = new Map<string, string>();
    for (const line of lines) {
      const c = COMMENT.exec(line);
      if (c) {
        if (c[1] === "TYPE") {
          expect(["gauge", "counter", "histogram"]).toContain(c[3] ?? "");
          expect(types.has(c[2] ?? "")).toBe(false); // one TYPE per family
          types.set(c[2] ?? "", c[3] ?? "");
        }
        continue;
      }
      const s = SAMPLE.exec(line);
      expect(s, line).not.toBeNull();
      const name = s?.[1] ?? "";
      const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
      expect(types.has(family), line).toBe(true); // TYPE comes before the family's samples
      if (family !== name) expect(types.get(family)).toBe("histogram");
    }
  });

  test("pool gauges, libvirt up, failed operations by kind with the label escaped", async () => {
    const { lines } = await scrape();
    expect(value(lines, `berth_pool_size{pool="${P}-a"}`)).toBe(2);
    expect(value(lines, `berth_pool_ready{pool="${P}-a"}`)).toBe(2);
    expect(value(lines, `berth_pool_pending{pool="${P}-a"}`)).toBe(0);
    expect(value(lines, `berth_pool_checked_out{pool="${P}-a"}`)).toBe(0);
    expect(value(lines, `berth_pool_ready{pool="${P}-b"}`)).toBe(0);
    expect(value(lines, "berth_libvirt_up")).toBe(1);
    expect(value(lines, 'berth_operation_errors_total{kind="we\\"ird\\\\kind"}')).toBe(1);
  });

  test("ready-time histogram: cumulative buckets, +Inf equals count, sum in seconds", async () => {
    const { lines } = await scrape();
    const h = (le: string) => value(lines, `berth_ready_seconds_bucket{pool="${P}-gone",le="${le}"}`);
    expect(h("5")).toBe(0);
    expect(h("10")).toBe(1);
    expect(h("30")).toBe(1);
    expect(h("60")).toBe(2);
    expect(h("+Inf")).toBe(2);
    expect(value(lines, `berth_ready_seconds_count{pool="${P}-gone"}`)).toBe(2);
    expect(value(lines, `berth_ready_seconds_sum{pool="${P}-gone"}`)).toBe(50);
    // The live pool's two clones are counted too.
    expect(value(lines, `berth_clone_seconds_count{pool="${P}-a"}`)).toBe(2);
    expect(value(lines, `berth_clone_seconds_bucket{pool="${P}-a",le="+Inf"}`)).toBe(2);
    expect(value(lines, `berth_clone_seconds_count{pool="${P}-b"}`)).toBe(0);
  });

  test("checkout counters: success, empty and invalid each count", async () => {
    const before = (await scrape()).lines;
    const n = (lines: string[], outcome: string) =>
      value(lines, `berth_checkouts_total{outcome="${outcome}"}`) ?? -1;
    expect((await api.post("/v1/checkout", { [`${P}-a`]: 1 })).status).toBe(200);
    expect((await api.post("/v1/checkout", { [`${P}-a`]: 5 })).status).toBe(503);
    expect((await api.post("/v1/checkout", { [`${P}-nope`]: 1 })).status).toBe(404);
    const after = (await scrape()).lines;
    expect(n(after, "success")).toBe(n(before, "success") + 1);
    expect(n(after, "empty")).toBe(n(before, "empty") + 1);
    expect(n(after, "invalid")).toBe(n(before, "invalid") + 1);
    expect(value(after, `berth_pool_checked_out{pool="${P}-a"}`)).toBe(1);
  });

  test("libvirt connection state: 0 while the hypervisor is down", async () => {
    const down = new Hypervisor({
      uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
      workerUrl: WORKERS.hypervisor,
      workers: 1,
      callTimeoutMs: 2000,
      longCallTimeoutMs: 5000,
      reconnectMaxMs: 200,
    });
    await down.start();
    try {
      expect(down.state).toBe("down");
      const lines = renderMetrics({ ...core, hv: down }).split("\n");
      expect(value(lines, "berth_libvirt_up")).toBe(0);
    } finally {
      await down.close();
    }
  });

  test("/metrics, /v1/status and /v1/summary are in the OpenAPI document", async () => {
    const doc = (await api.get("/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/metrics", "/v1/status", "/v1/summary"]));
  });

  test("label values are escaped as the format asks", () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabel("plain")).toBe("plain");
  });
});
