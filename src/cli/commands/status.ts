// `berth status` and `berth --version`: the pools' stock and capacity, and the client's and server's versions.

import { BERTH_VERSION } from "../../version.ts";
import type { Client } from "../client.ts";
import type { Command } from "../command.ts";
import { type Column, printOne, table } from "../output.ts";

interface PoolRow {
  name: string;
  size: number;
  ready: number;
  pending: number;
  running: number;
  draining: number;
  failures: number;
}
interface Status {
  ok: boolean;
  message: string;
  pools: PoolRow[];
  capacity: { current: number; total: number; percent: number };
  empty: string[];
  queue: { operations: number };
}

const POOLS: Column<PoolRow>[] = [
  { head: "POOL", get: (p) => p.name },
  { head: "SIZE", get: (p) => p.size },
  { head: "READY", get: (p) => p.ready },
  { head: "PENDING", get: (p) => p.pending },
  { head: "OUT", get: (p) => p.running },
  { head: "DRAINING", get: (p) => p.draining },
  { head: "FAILURES", get: (p) => p.failures },
];

/** The client's version, and the server's when it answers within a second. */
export async function versions(client: () => Promise<Client>): Promise<string> {
  const lines = [`berth ${BERTH_VERSION}`];
  try {
    const c = await client();
    const info = await c.json<{ version: string; libvirt_version: string | null; hypervisor_uri: string }>(
      "GET",
      "/v1",
      {
        signal: AbortSignal.timeout(1000),
      },
    );
    lines.push(
      `server ${info.version} at ${c.base} (libvirt ${info.libvirt_version ?? "unknown"}, ${info.hypervisor_uri})`,
    );
  } catch (e) {
    lines.push(`server: not reached (${(e as Error).message})`);
  }
  return lines.join("\n");
}

export const statusCommands: Command[] = [
  {
    words: ["status"],
    summary: "Pools' stock, capacity and running operations",
    run: async (ctx) => {
      const client = await ctx.client();
      const s = await client.get<Status>("/v1/status");
      if (ctx.format !== "table") {
        printOne(ctx.format, s, [
          { head: "OK", get: (x) => x.ok },
          { head: "MESSAGE", get: (x) => x.message },
        ]);
        return 0;
      }
      console.log(`${s.ok ? "ok" : "NOT OK"}: ${s.message}`);
      console.log(
        `capacity: ${s.capacity.current}/${s.capacity.total} (${s.capacity.percent}%), operations running: ${s.queue.operations}`,
      );
      if (s.empty.length) console.log(`empty pools: ${s.empty.join(", ")}`);
      if (s.pools.length) console.log(`\n${table(s.pools, POOLS)}`);
      return 0;
    },
  },
  {
    words: ["version"],
    summary: "Print berth's version, and the server's when it answers",
    run: async (ctx) => {
      console.log(await versions(ctx.client));
      return 0;
    },
  },
];
