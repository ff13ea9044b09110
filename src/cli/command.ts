// What a CLI command is (words, options, arguments, help) and the helpers commands share.
import { GLOBAL, OPTION_HELP, type OptionName, type Values } from "./args.ts";
import type { Client } from "./client.ts";
import { UsageError } from "./exit.ts";
import type { Format } from "./output.ts";
import { type Operation, waitOperation } from "./wait.ts";

export interface Ctx {
  values: Values;
  args: string[];
  format: Format;
  /** The API client, made on first use (local commands never need one). */
  client(): Promise<Client>;
}

export interface Command {
  /** The words that name it: ["vm", "list"]. */
  words: string[];
  /** Arguments after the words, as shown in help: "<name>". */
  synopsis?: string;
  summary: string;
  /** Options beyond the API commands' global ones. */
  options?: OptionName[];
  /** Commands that never talk to the API take only these options (no --url, --json, …). */
  local?: OptionName[];
  /** How many arguments it takes: [min, max]. */
  arity?: [number, number];
  run(ctx: Ctx): Promise<number>;
}

export const WAIT: OptionName[] = ["wait", "no-wait"];

export function allowedOptions(c: Command): OptionName[] {
  return c.local ? [...c.local, "help"] : [...GLOBAL, ...(c.options ?? [])];
}

export function usageOf(c: Command): string {
  const opts = allowedOptions(c).filter((o) => o !== "help");
  const rows = opts.map((o) => {
    const [value, text] = OPTION_HELP[o].includes("  ")
      ? OPTION_HELP[o].split("  ", 2)
      : ["", OPTION_HELP[o]];
    return [`--${o}${value ? ` ${value}` : ""}`, text ?? ""];
  });
  const width = Math.max(0, ...rows.map((r) => (r[0] ?? "").length));
  const head = `usage: berth ${c.words.join(" ")}${c.synopsis ? ` ${c.synopsis}` : ""}${opts.length ? " [options]" : ""}`;
  const list = rows.map(([a, b]) => `  ${(a ?? "").padEnd(width)}  ${b}`).join("\n");
  return `${head}\n\n${c.summary}${opts.length ? `\n\noptions:\n${list}` : ""}`;
}

/** Whether to wait for an action's operation: yes unless --no-wait. */
export function waits(v: Values): boolean {
  if (v.wait && v["no-wait"]) throw new UsageError("--wait and --no-wait disagree");
  return !v["no-wait"];
}

/** A whole number from an option, or a usage error naming it. */
export function intOpt(v: Values, k: OptionName, min = 0): number | undefined {
  const s = v[k];
  if (s === undefined || typeof s !== "string") return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${k} must be a whole number of at least ${min} (got ${s})`);
  return n;
}

export function numOpt(v: Values, k: OptionName): number | undefined {
  const s = v[k];
  if (s === undefined || typeof s !== "string") return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${k} must be a positive number (got ${s})`);
  return n;
}

/**
 * Sends an action that answers with an operation; waits for it (with progress) unless --no-wait.
 * Without waiting it prints the operation id (or the operation with --json) and returns it running.
 */
export async function act(
  ctx: Ctx,
  method: string,
  path: string,
  label: string,
  body?: unknown,
): Promise<Operation> {
  const client = await ctx.client();
  const op = await client.json<Operation>(method, path, { body });
  if (!waits(ctx.values)) {
    if (ctx.format === "table") console.log(`${label}: started operation ${op.id}`);
    else console.log(JSON.stringify(op, null, 2));
    return op;
  }
  return await waitOperation(client, op, label);
}

export const enc = encodeURIComponent;
