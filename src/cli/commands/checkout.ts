// `berth checkout <pool>[+<pool>…]` and `berth return <vm>`: take ready VMs all or nothing, and give one back.
import { act, type Command, enc, numOpt, WAIT } from "../command.ts";
import { UsageError } from "../exit.ts";
import { type Column, printList } from "../output.ts";

interface CheckedOut {
  name: string;
  pool: string;
  requested: string;
  owner: string | null;
  lifetime_hours: number;
  expires_at: string;
}

const COLUMNS: Column<CheckedOut>[] = [
  { head: "NAME", get: (v) => v.name },
  { head: "POOL", get: (v) => v.pool },
  { head: "OWNER", get: (v) => v.owner },
  { head: "LIFETIME", get: (v) => `${v.lifetime_hours} h` },
  { head: "EXPIRES", get: (v) => v.expires_at },
];

/** "a+b+a" → {a: 2, b: 1}, vmfloaty's way of asking for several VMs. */
export function poolCounts(words: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of words.flatMap((w) => w.split("+"))) {
    if (p === "") throw new UsageError("an empty pool name in the checkout list");
    counts[p] = (counts[p] ?? 0) + 1;
  }
  return counts;
}

export const checkoutCommands: Command[] = [
  {
    words: ["checkout"],
    synopsis: "<pool>[+<pool>…] …",
    summary: "Check out one ready VM per pool named (a+a: two of a), all or none; --lifetime H",
    options: ["lifetime"],
    arity: [1, 100],
    run: async (ctx) => {
      const client = await ctx.client();
      const r = await client.json<{ vms: CheckedOut[] }>("POST", "/v1/checkout", {
        query: { lifetime: numOpt(ctx.values, "lifetime") },
        body: poolCounts(ctx.args),
      });
      printList(ctx.format, r.vms, COLUMNS);
      return 0;
    },
  },
  {
    words: ["return"],
    synopsis: "<vm>",
    summary: "Return a checked-out VM (it is deleted)",
    options: [...WAIT],
    arity: [1, 1],
    run: async (ctx) => {
      await act(ctx, "DELETE", `/v1/vms/${enc(ctx.args[0] as string)}`, `return ${ctx.args[0]}`);
      return 0;
    },
  },
];
