// Printing a benchmark's table and writing the same figures to bench/results/<name>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import type { Summary } from "./stats.ts";

export type Cell = string | number | null;
export type Table = Record<string, Record<string, Cell>>;

const RESULTS = new URL("../results/", import.meta.url);

/** Fixed decimals for numbers; "-" for a missing figure. */
export function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits);
}

/** A latency summary as table cells (ms). */
export function msCells(s: Summary, digits = 1): Record<string, Cell> {
  return {
    n: s.n,
    "min ms": fmt(s.min, digits),
    "median ms": fmt(s.median, digits),
    "p99 ms": fmt(s.p99, digits),
    "max ms": fmt(s.max, digits),
  };
}

export function printTable(title: string, table: Table): void {
  console.log(`\n${title}`);
  console.table(table);
}

/** Writes `{name, at, host, ...data}` to bench/results/<name>.json and returns its path. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS, { recursive: true });
  const url = new URL(`${name}.json`, RESULTS);
  const host = { cpus: navigator.hardwareConcurrency, bun: Bun.version, platform: process.platform };
  writeFileSync(url, `${JSON.stringify({ name, at: new Date().toISOString(), host, ...data }, null, 2)}\n`);
  console.log(`wrote ${url.pathname}`);
  return url.pathname;
}

/** A non-negative integer list from an environment variable ("1,4,8"), or the default. */
export function envList(name: string, fallback: number[]): number[] {
  const v = process.env[name];
  if (!v) return fallback;
  const xs = v.split(",").map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`${name}: want e.g. 1,4,8, got ${v}`);
  return xs;
}

export function envInt(name: string, fallback: number): number {
  return envList(name, [fallback])[0] ?? fallback;
}
