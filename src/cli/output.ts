// How the CLI prints results: aligned tables for people, JSON, YAML or CSV for scripts.
import { stringify as toYaml } from "yaml";
import { str, type Values } from "./args.ts";
import { UsageError } from "./exit.ts";

export type Format = "table" | "json" | "yaml" | "csv";

/** A column: its heading and how to read it from a row of the API's answer. */
export interface Column<T> {
  head: string;
  get: (row: T) => unknown;
}

export function formatOf(v: Values): Format {
  const f = str(v, "format");
  if (v.json) {
    if (f && f !== "json") throw new UsageError(`--json and --format ${f} disagree`);
    return "json";
  }
  if (f === undefined) return "table";
  if (f === "table" || f === "json" || f === "yaml" || f === "csv") return f;
  throw new UsageError(`--format must be json, yaml, csv or table (got ${f})`);
}

export const cell = (x: unknown): string => {
  if (x === null || x === undefined) return "-";
  if (typeof x === "object") return Array.isArray(x) ? x.map(cell).join(",") : JSON.stringify(x);
  return String(x);
};

export function table<T>(rows: T[], cols: Column<T>[]): string {
  const cells = [cols.map((c) => c.head), ...rows.map((r) => cols.map((c) => cell(c.get(r))))];
  const widths = cols.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  "))
    .join("\n");
}

const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function csv<T>(rows: T[], cols: Column<T>[]): string {
  const raw = (x: unknown) => (x === null || x === undefined ? "" : cell(x));
  return [cols.map((c) => c.head.toLowerCase()), ...rows.map((r) => cols.map((c) => raw(c.get(r))))]
    .map((r) => r.map(csvField).join(","))
    .join("\n");
}

/** Machine formats print the API's answer as it is; table and csv print the columns. */
export function printList<T>(format: Format, rows: T[], cols: Column<T>[]): void {
  if (format === "json") console.log(JSON.stringify(rows, null, 2));
  else if (format === "yaml") process.stdout.write(toYaml(rows));
  else if (format === "csv") console.log(csv(rows, cols));
  else console.log(table(rows, cols));
}

/** One resource: key/value lines for people (nested values as JSON), the answer itself for scripts. */
export function printOne<T>(format: Format, row: T, cols: Column<T>[]): void {
  if (format === "json") console.log(JSON.stringify(row, null, 2));
  else if (format === "yaml") process.stdout.write(toYaml(row));
  else if (format === "csv") console.log(csv([row], cols));
  else {
    const width = Math.max(...cols.map((c) => c.head.length));
    console.log(
      cols.map((c) => `${`${c.head.toLowerCase()}:`.padEnd(width + 2)}${cell(c.get(row))}`).join("\n"),
    );
  }
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
export const bytes = (n: number) =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? mib(n) : `${(n / 1024).toFixed(0)} KiB`;
