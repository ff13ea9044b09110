// `berth pool ...`: list, show, create, reset and delete warm pools; create and reset follow the fill.

import { AppError } from "../../errors.ts";
import { list, str } from "../args.ts";
import type { Client } from "../client.ts";
import { type Command, type Ctx, enc, intOpt, numOpt, WAIT, waits } from "../command.ts";
import { UsageError } from "../exit.ts";
import { type Column, printList, printOne } from "../output.ts";
import { Progress } from "../progress.ts";
import { isTty } from "../wait.ts";

interface Pool {
  name: string;
  origin: string;
  size: number;
  profile?: string | null;
  image?: string | null;
  vm_size?: string | null;
  tier?: string;
  failures: number;
  counts: { pending: number; ready: number; checked_out: number; draining: number };
}

const COLUMNS: Column<Pool>[] = [
  { head: "NAME", get: (p) => p.name },
  { head: "SIZE", get: (p) => p.size },
  { head: "READY", get: (p) => p.counts.ready },
  { head: "PENDING", get: (p) => p.counts.pending },
  { head: "OUT", get: (p) => p.counts.checked_out },
  { head: "DRAINING", get: (p) => p.counts.draining },
  { head: "FAILURES", get: (p) => p.failures },
  { head: "TIER", get: (p) => p.tier ?? "running" },
  { head: "RECIPE", get: (p) => p.profile ?? [p.image, p.vm_size].filter(Boolean).join("/") },
  { head: "ORIGIN", get: (p) => p.origin },
];

/** Follows a pool until `size` VMs are ready: each pool event of it triggers a fresh count. */
export async function waitFill(client: Client, name: string, timeoutS: number): Promise<Pool> {
  const bar = new Progress(`fill ${name}`, { tty: isTty() });
  const stop = new AbortController();
  let nudge = () => {};
  const follow = client.events({ target: `pool/${name}` }, () => nudge(), stop.signal).catch(() => undefined);
  const deadline = Date.now() + timeoutS * 1000;
  try {
    for (;;) {
      const p = await client.get<Pool>(`/v1/pools/${enc(name)}`);
      bar.update(
        p.size === 0 ? 1 : Math.min(1, p.counts.ready / p.size),
        `ready ${p.counts.ready}/${p.size}, pending ${p.counts.pending}`,
      );
      if (p.counts.ready >= p.size) {
        bar.done(`${p.counts.ready} ready`);
        return p;
      }
      if (Date.now() > deadline) {
        bar.clear();
        throw new AppError(
          504,
          "timeout",
          `pool ${name} has ${p.counts.ready} of ${p.size} VMs ready after ${timeoutS} s`,
        );
      }
      // An event of the pool or 5 s, whichever first: the events drive it, the timer covers a lost stream.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000);
        nudge = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    stop.abort();
    await follow;
  }
}

async function afterChange(ctx: Ctx, p: Pool): Promise<number> {
  const wanted = ctx.values.wait === true;
  const pool =
    wanted && waits(ctx.values)
      ? await waitFill(await ctx.client(), p.name, intOpt(ctx.values, "timeout", 1) ?? 900)
      : p;
  printOne(ctx.format, pool, COLUMNS);
  return 0;
}

export const poolCommands: Command[] = [
  {
    words: ["pool", "list"],
    summary: "List pools with their ready, pending, checked-out and draining VMs",
    run: async (ctx) => {
      printList(ctx.format, await (await ctx.client()).get<Pool[]>("/v1/pools"), COLUMNS);
      return 0;
    },
  },
  {
    words: ["pool", "show"],
    synopsis: "<name>",
    summary: "Show a pool",
    arity: [1, 1],
    run: async (ctx) => {
      printOne(
        ctx.format,
        await (await ctx.client()).get<Pool>(`/v1/pools/${enc(ctx.args[0] as string)}`),
        COLUMNS,
      );
      return 0;
    },
  },
  {
    words: ["pool", "create"],
    synopsis: "<name>",
    summary:
      "Create a pool of --size N VMs from --profile, or --image and --vm-size (--network, --alias, --lifetime H, --ready-check, --tier running|paused|saved); --wait follows the fill (--timeout S)",
    options: [
      "size",
      "profile",
      "image",
      "vm-size",
      "network",
      "alias",
      "lifetime",
      "ready-check",
      "tier",
      "timeout",
      ...WAIT,
    ],
    arity: [1, 1],
    run: async (ctx) => {
      const v = ctx.values;
      const size = intOpt(v, "size", 0);
      if (size === undefined) throw new UsageError("pool create needs --size N");
      const body = Object.fromEntries(
        Object.entries({
          name: ctx.args[0],
          size,
          profile: str(v, "profile"),
          image: str(v, "image"),
          vm_size: str(v, "vm-size"),
          networks: list(v, "network").length ? list(v, "network") : undefined,
          alias: list(v, "alias").length ? list(v, "alias") : undefined,
          lifetime: numOpt(v, "lifetime"),
          ready_check: str(v, "ready-check"),
          tier: str(v, "tier"),
        }).filter(([, x]) => x !== undefined),
      );
      return afterChange(ctx, await (await ctx.client()).json<Pool>("POST", "/v1/pools", { body }));
    },
  },
  {
    words: ["pool", "reset"],
    synopsis: "<name>",
    summary: "Drain a pool's pending and ready VMs and refill it; --wait follows the fill (--timeout S)",
    options: ["timeout", ...WAIT],
    arity: [1, 1],
    run: async (ctx) =>
      afterChange(
        ctx,
        await (await ctx.client()).json<Pool>("POST", `/v1/pools/${enc(ctx.args[0] as string)}/reset`),
      ),
  },
  {
    words: ["pool", "delete"],
    synopsis: "<name>",
    summary: "Delete a pool: its pending and ready VMs go, checked-out ones live out their lifetime",
    arity: [1, 1],
    run: async (ctx) => {
      await (await ctx.client()).send("DELETE", `/v1/pools/${enc(ctx.args[0] as string)}`);
      if (ctx.format === "table") console.log(`deleted pool ${ctx.args[0]}`);
      return 0;
    },
  },
];
