// The fuzz loop: a seeded stream of hostile requests per route, each answer checked, state compared around each refusal.
import fc from "fast-check";
import type { Core } from "../../../src/core/context.ts";
import {
  type Answer,
  checkAnswer,
  describeRequest,
  diff,
  readAnswer,
  routeSeed,
  type Snapshot,
  settle,
  snapshot,
  within,
} from "./fuzz-harness.ts";
import { type ArbOptions, type Front, type FuzzRequest, type FuzzRoute, requestArb } from "./fuzz-routes.ts";

export interface Finding {
  route: string;
  request: string;
  problem: string;
}

export class FuzzRun {
  readonly findings: Finding[] = [];
  readonly counts = new Map<string, number>();
  readonly statuses = new Map<number, number>();
  readonly slowest: { request: string; ms: number }[] = [];
  #state: Snapshot = new Map();

  constructor(
    readonly core: Core,
    /** Sends one request to its route's listener and returns its answer (app.handle or a socket). */
    readonly send: (r: FuzzRequest, route: FuzzRoute) => Promise<Response>,
    readonly seed: number,
    /** The front that answers a path on a listener (the listener's plan decides). */
    readonly frontAt: (address: string, path: string) => Front,
  ) {}

  async start(): Promise<void> {
    await settle(this.core);
    this.#state = await snapshot(this.core);
  }

  /** `runs` generated requests to `route`, from the route's own seed. */
  async route(route: FuzzRoute, opts: ArbOptions, runs: number): Promise<void> {
    const key = `${route.method} ${route.path}`;
    const requests = fc.sample(requestArb(route, opts), { seed: routeSeed(this.seed, key), numRuns: runs });
    for (const r of requests) await this.one(route, r);
  }

  async one(route: FuzzRoute, r: FuzzRequest): Promise<void> {
    const key = `${route.method} ${route.path}`;
    const found = (problem: string) =>
      this.findings.push({ route: key, request: describeRequest(r), problem });
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let answer: Answer;
    const t0 = performance.now();
    try {
      answer = await within(this.send(r, route).then(readAnswer), 20_000, key);
    } catch (e) {
      found(`no answer: ${(e as Error).message}`);
      this.#state = await snapshot(this.core);
      return;
    }
    this.slowest.push({ request: describeRequest(r).slice(0, 160), ms: Math.round(performance.now() - t0) });
    this.slowest.sort((a, b) => b.ms - a.ms).splice(3);
    this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
    // The shape follows the path the server saw (a URL's dot segments are resolved before routing).
    const seen = new URL(r.path, "http://localhost").pathname;
    for (const p of checkAnswer(this.frontAt(route.address, seen), answer)) found(p);
    const before = this.#state;
    if (answer.status >= 300) {
      // A refusal: nothing may have changed, not a row, a domain, a volume or a file.
      await settle(this.core);
      const after = await snapshot(this.core);
      const changed = diff(before, after);
      if (changed.length > 0)
        found(`refused (${answer.status}) but changed state:\n    ${changed.slice(0, 8).join("\n    ")}`);
      this.#state = after;
      return;
    }
    await settle(this.core);
    const after = await snapshot(this.core);
    const opId = /\/v1\/operations\/([^/?]+)$/.exec(answer.headers.get("location") ?? "")?.[1];
    const op = opId ? this.core.ops.get(opId) : null;
    if (op?.status === "failed") {
      // An accepted operation that failed must leave nothing behind but its own record.
      const changed = diff(before, after, (k) => k.startsWith("db:operations:"));
      if (changed.length > 0) {
        found(
          `operation ${op.kind} failed (${op.error?.code}: ${op.error?.message}) and left:\n    ${changed.slice(0, 8).join("\n    ")}`,
        );
      }
    }
    this.#state = after;
  }

  /** The findings, one line per distinct (route, problem start), with an example request each. */
  report(): string[] {
    const seen = new Map<string, Finding & { n: number }>();
    for (const f of this.findings) {
      const k = `${f.route} ${f.problem.slice(0, 60)}`;
      const prev = seen.get(k);
      if (prev) prev.n++;
      else seen.set(k, { ...f, n: 1 });
    }
    return [...seen.values()].map((f) => `[${f.n}x] ${f.route}: ${f.problem}\n  e.g. ${f.request}`);
  }

  summary(label: string): string {
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    const statuses = [...this.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`);
    const slow = this.slowest.map((s) => `${s.ms} ms ${s.request}`).join("\n    ");
    return `fuzz ${label}: seed ${this.seed}, ${total} requests over ${this.counts.size} routes; statuses ${statuses.join(" ")}\n  slowest:\n    ${slow}`;
  }
}
