// `berth network ...`: list, create (OVS with VLAN or trunk, or NAT) and delete berth's networks.
import { str } from "../args.ts";
import { type Command, enc, intOpt } from "../command.ts";
import { UsageError } from "../exit.ts";
import { type Column, printList, printOne } from "../output.ts";

interface Network {
  name: string;
  kind: string;
  bridge: string;
  vlan: number | null;
  trunk: number[] | null;
  subnet: string | null;
  active: boolean;
  autostart: boolean;
}

const COLUMNS: Column<Network>[] = [
  { head: "NAME", get: (n) => n.name },
  { head: "KIND", get: (n) => n.kind },
  { head: "BRIDGE", get: (n) => n.bridge },
  { head: "VLAN", get: (n) => n.vlan ?? n.trunk },
  { head: "SUBNET", get: (n) => n.subnet },
  { head: "ACTIVE", get: (n) => (n.active ? "yes" : "no") },
];

function trunkOf(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  const tags = s.split(",").map(Number);
  if (tags.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError(`--trunk takes VLAN tags like 10,20 (got ${s})`);
  return tags;
}

export const networkCommands: Command[] = [
  {
    words: ["network", "list"],
    summary: "List berth's networks with their libvirt state",
    run: async (ctx) => {
      printList(ctx.format, await (await ctx.client()).get<Network[]>("/v1/networks"), COLUMNS);
      return 0;
    },
  },
  {
    words: ["network", "create"],
    synopsis: "<name>",
    summary:
      "Create a network: --mode nat --subnet CIDR, or (OVS) --bridge BR with --vlan N or --trunk 10,20",
    options: ["mode", "bridge", "vlan", "trunk", "subnet"],
    arity: [1, 1],
    run: async (ctx) => {
      const v = ctx.values;
      const mode = str(v, "mode");
      if (mode !== undefined && mode !== "nat" && mode !== "ovs")
        throw new UsageError(`--mode must be nat or ovs (got ${mode})`);
      const body = Object.fromEntries(
        Object.entries({
          name: ctx.args[0],
          mode,
          bridge: str(v, "bridge"),
          vlan: intOpt(v, "vlan", 1),
          trunk: trunkOf(str(v, "trunk")),
          subnet: str(v, "subnet"),
        }).filter(([, x]) => x !== undefined),
      );
      printOne(
        ctx.format,
        await (await ctx.client()).json<Network>("POST", "/v1/networks", { body }),
        COLUMNS,
      );
      return 0;
    },
  },
  {
    words: ["network", "delete"],
    synopsis: "<name>",
    summary: "Delete a network (409 while a VM or profile uses it)",
    arity: [1, 1],
    run: async (ctx) => {
      await (await ctx.client()).send("DELETE", `/v1/networks/${enc(ctx.args[0] as string)}`);
      if (ctx.format === "table") console.log(`deleted network ${ctx.args[0]}`);
      return 0;
    },
  },
];
