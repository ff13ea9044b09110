// `berth vm ...`: list, show, create, delete, power, disks, snapshots and XML of VMs.
import { list, str } from "../args.ts";
import { act, type Command, type Ctx, enc, intOpt, WAIT } from "../command.ts";
import { UsageError } from "../exit.ts";
import { bytes, type Column, printList, printOne } from "../output.ts";

interface Vm {
  name: string;
  project: string;
  status: string;
  state?: string;
  primary_ipv4: string | null;
  vcpus: number;
  memory_mib: number;
  image: string | null;
  profile: string | null;
  tags: Record<string, string>;
  created_at: string;
  disks: { name: string }[];
  nics: { network: string }[];
}

const tagText = (t: Record<string, string>) => Object.entries(t).map(([k, v]) => `${k}=${v}`);

export const VM_COLUMNS: Column<Vm>[] = [
  { head: "NAME", get: (v) => v.name },
  { head: "STATUS", get: (v) => v.status },
  { head: "STATE", get: (v) => v.state },
  { head: "VCPUS", get: (v) => v.vcpus },
  { head: "MEMORY", get: (v) => `${v.memory_mib} MiB` },
  { head: "IMAGE", get: (v) => v.image ?? v.profile },
  { head: "PROJECT", get: (v) => v.project },
  { head: "CREATED", get: (v) => v.created_at },
];

const SHOW: Column<Vm>[] = [
  ...VM_COLUMNS.slice(0, 4),
  { head: "MEMORY", get: (v) => `${v.memory_mib} MiB` },
  { head: "IPV4", get: (v) => v.primary_ipv4 },
  { head: "IMAGE", get: (v) => v.image },
  { head: "PROFILE", get: (v) => v.profile },
  { head: "PROJECT", get: (v) => v.project },
  { head: "DISKS", get: (v) => v.disks.map((d) => d.name) },
  { head: "NETWORKS", get: (v) => v.nics.map((n) => n.network) },
  { head: "TAGS", get: (v) => tagText(v.tags) },
  { head: "CREATED", get: (v) => v.created_at },
];

const DISKS: Column<{
  name: string;
  target: string;
  bus: string;
  device: string;
  format: string;
  size: number;
  image: string | null;
}>[] = [
  { head: "NAME", get: (d) => d.name },
  { head: "TARGET", get: (d) => d.target },
  { head: "BUS", get: (d) => d.bus },
  { head: "DEVICE", get: (d) => d.device },
  { head: "FORMAT", get: (d) => d.format },
  { head: "SIZE", get: (d) => bytes(d.size) },
  { head: "IMAGE", get: (d) => d.image },
];

const SNAPSHOTS: Column<{
  name: string;
  state: string;
  memory_state: boolean;
  created_at: string;
  description: string;
}>[] = [
  { head: "NAME", get: (s) => s.name },
  { head: "STATE", get: (s) => s.state },
  { head: "MEMORY", get: (s) => (s.memory_state ? "yes" : "no") },
  { head: "CREATED", get: (s) => s.created_at },
  { head: "DESCRIPTION", get: (s) => s.description },
];

const name = (ctx: Ctx) => ctx.args[0] as string;
const one: [number, number] = [1, 1];

function createBody(ctx: Ctx): Record<string, unknown> {
  const v = ctx.values;
  const tags: Record<string, string> = {};
  for (const t of list(v, "tag")) {
    const i = t.indexOf("=");
    if (i <= 0) throw new UsageError(`--tag takes key=value (got ${t})`);
    tags[t.slice(0, i)] = t.slice(i + 1);
  }
  const body: Record<string, unknown> = {
    name: ctx.args[0],
    profile: str(v, "profile"),
    image: str(v, "image"),
    size: str(v, "size"),
    cpus: intOpt(v, "cpus", 1),
    memory_mib: intOpt(v, "memory", 16),
    root_disk_gb: intOpt(v, "disk", 1),
    project: str(v, "project"),
    start: v["no-start"] ? false : undefined,
  };
  if (list(v, "network").length) body.networks = list(v, "network");
  if (list(v, "ssh-key").length) body.ssh_keys = list(v, "ssh-key");
  if (Object.keys(tags).length) body.tags = tags;
  return Object.fromEntries(Object.entries(body).filter(([, x]) => x !== undefined));
}

/** A power action: POST /v1/vms/{name}/{action}, waited for unless --no-wait. */
function power(action: string, summary: string, extra: Partial<Command> = {}): Command {
  return {
    words: ["vm", action],
    synopsis: "<name>",
    summary,
    options: [...WAIT],
    arity: one,
    run: async (ctx) => {
      await act(ctx, "POST", `/v1/vms/${enc(name(ctx))}/${action}`, `${action} ${name(ctx)}`);
      return 0;
    },
    ...extra,
  };
}

export const vmCommands: Command[] = [
  {
    words: ["vm", "list"],
    summary: "List the VMs you see (filters: --state, --tag key[=value], --project, --name)",
    options: ["state", "tag", "project", "name"],
    run: async (ctx) => {
      const v = ctx.values;
      const tags = list(v, "tag");
      if (tags.length > 1) throw new UsageError("vm list takes one --tag");
      const query = {
        state: str(v, "state"),
        tag: tags[0],
        project: str(v, "project"),
        name: str(v, "name"),
      };
      printList(ctx.format, await (await ctx.client()).get<Vm[]>("/v1/vms", query), VM_COLUMNS);
      return 0;
    },
  },
  {
    words: ["vm", "show"],
    synopsis: "<name>",
    summary: "Show a VM",
    arity: one,
    run: async (ctx) => {
      printOne(ctx.format, await (await ctx.client()).get<Vm>(`/v1/vms/${enc(name(ctx))}`), SHOW);
      return 0;
    },
  },
  {
    words: ["vm", "create"],
    synopsis: "[<name>]",
    summary:
      "Create a VM from --profile, or --image with --size (or --cpus, --memory MiB), --disk GB, --network (repeat), --tag k=v, --ssh-key, --project, --no-start; waits until it runs unless --no-wait",
    options: [
      "profile",
      "image",
      "size",
      "cpus",
      "memory",
      "disk",
      "network",
      "ssh-key",
      "tag",
      "project",
      "no-start",
      ...WAIT,
    ],
    arity: [0, 1],
    run: async (ctx) => {
      const op = await act(ctx, "POST", "/v1/vms", `create ${ctx.args[0] ?? "vm"}`, createBody(ctx));
      if (op.status === "succeeded") {
        const client = await ctx.client();
        printOne(ctx.format, await client.get<Vm>(`/v1/vms/${enc(op.target.replace(/^vm\//, ""))}`), SHOW);
      }
      return 0;
    },
  },
  {
    words: ["vm", "delete"],
    synopsis: "<name>",
    summary: "Delete a VM (a hard stop first if it runs) and its own disks",
    options: [...WAIT],
    arity: one,
    run: async (ctx) => {
      await act(ctx, "DELETE", `/v1/vms/${enc(name(ctx))}`, `delete ${name(ctx)}`);
      return 0;
    },
  },
  power("start", "Start a stopped VM; waits until it runs unless --no-wait"),
  power("stop", "Stop a VM hard (pull the plug)"),
  power("restart", "Ask the guest to reboot (ACPI)"),
  {
    ...power("shutdown", "ACPI shutdown within --timeout seconds; --force stops it hard after that"),
    options: ["timeout", "force", ...WAIT],
    run: async (ctx) => {
      const body = {
        timeout_s: intOpt(ctx.values, "timeout", 1),
        force: ctx.values.force ? true : undefined,
      };
      await act(ctx, "POST", `/v1/vms/${enc(name(ctx))}/shutdown`, `shutdown ${name(ctx)}`, body);
      return 0;
    },
  },
  {
    words: ["vm", "disks"],
    synopsis: "<name>",
    summary: "List a VM's disks",
    arity: one,
    run: async (ctx) => {
      printList(
        ctx.format,
        await (await ctx.client()).get<unknown[]>(`/v1/vms/${enc(name(ctx))}/disks`),
        DISKS as Column<unknown>[],
      );
      return 0;
    },
  },
  {
    words: ["vm", "snapshots"],
    synopsis: "<name>",
    summary: "List a VM's snapshots, newest first",
    arity: one,
    run: async (ctx) => {
      printList(
        ctx.format,
        await (await ctx.client()).get<unknown[]>(`/v1/vms/${enc(name(ctx))}/snapshots`),
        SNAPSHOTS as Column<unknown>[],
      );
      return 0;
    },
  },
  {
    words: ["vm", "xml"],
    synopsis: "<name>",
    summary: "Print a VM's libvirt XML (--inactive: the persistent definition)",
    options: ["inactive"],
    arity: one,
    run: async (ctx) => {
      const client = await ctx.client();
      const res = await client.send("GET", `/v1/vms/${enc(name(ctx))}/xml`, {
        query: { inactive: ctx.values.inactive ? true : undefined },
        headers: { accept: "text/xml" },
      });
      const xml = await res.text();
      process.stdout.write(xml.endsWith("\n") ? xml : `${xml}\n`);
      return 0;
    },
  },
];
