// Runs generated requests against berth and checks each answer: no 5xx, the front's error shape, nothing created on refusal.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Core } from "../../../src/core/context.ts";
import { FRONTS } from "../../../src/routes/fronts/registry.ts";
import type { Front, FuzzRequest } from "./fuzz-routes.ts";

/** The seed every fuzz file starts from: BERTH_FUZZ_SEED, or a fresh one (printed so a failure reproduces). */
export function fuzzSeed(): number {
  const env = process.env.BERTH_FUZZ_SEED;
  const seed = env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`BERTH_FUZZ_SEED must be an integer, not ${env}`);
  return seed;
}

/** A stable per-route seed, so adding a route does not change the stream another route gets. */
export function routeSeed(seed: number, key: string): number {
  let h = seed | 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h;
}

/** Columns that change on a request that rightly changes nothing: a token's last use. */
const VOLATILE_COLUMNS = new Set(["last_used_at"]);
/** Files SQLite itself rewrites. */
const DB_FILES = /\.(db|sqlite)(-wal|-shm|-journal)?$/;

export type Snapshot = Map<string, string>;

function walk(dir: string, out: Snapshot, root: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // the directory vanished between listing and reading: nothing to record
  }
  for (const name of entries) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(p, out, root);
    else if (!DB_FILES.test(name)) out.set(`file:${p.slice(root.length)}`, String(st.size));
  }
}

/** Every row of every table, every libvirt domain, network, storage pool and volume, and every file under data_dir. */
export async function snapshot(core: Core): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const tables = core.db
    .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string }[];
  for (const { name } of tables) {
    const rows = core.db.query(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
    rows.forEach((row, i) => {
      for (const c of VOLATILE_COLUMNS) delete row[c];
      out.set(`db:${name}:${i}`, JSON.stringify(row));
    });
  }
  for (const d of await core.hv.call("domain.list", {})) out.set(`domain:${d.name}`, `${d.uuid} ${d.state}`);
  for (const n of await core.hv.call("network.list", {})) out.set(`network:${n.name}`, JSON.stringify(n));
  for (const p of await core.hv.call("pool.list", {})) {
    out.set(`pool:${p.name}`, String(p.active));
    if (!p.active) continue;
    for (const v of await core.hv.call("volume.list", { pool: p.name })) {
      out.set(`volume:${p.name}/${v.name}`, v.path);
    }
  }
  walk(core.config.data_dir, out, core.config.data_dir);
  return out;
}

/** What differs between two snapshots, as short lines. */
export function diff(a: Snapshot, b: Snapshot, ignore: (key: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (!ignore(k) && b.get(k) !== v) out.push(`- ${k} ${v.slice(0, 160)}`);
  for (const [k, v] of b) if (!ignore(k) && a.get(k) !== v) out.push(`+ ${k} ${v.slice(0, 160)}`);
  return out;
}

/** Whether a parsed error body has the shape the front documents (its registry entry says). */
export function hasFrontShape(front: Front, body: unknown): boolean {
  const declared = FRONTS.find((f) => f.name === front);
  if (!declared) throw new Error(`front ${front} is not in the registry`);
  return declared.isErrorBody(body);
}

/** Waits for every running operation to end. */
export async function settle(core: Core): Promise<void> {
  for (const op of core.ops.list({ status: "running", limit: 1000 })) await core.ops.wait(op.id, 60);
}

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

export function describeRequest(r: FuzzRequest): string {
  const body =
    r.body === undefined
      ? ""
      : typeof r.body === "string"
        ? ` body(${r.kind},${r.body.length})=${JSON.stringify(r.body.slice(0, 200))}`
        : ` body(${r.kind})=bytes[${[...r.body].map((x) => x.toString(16)).join(" ")}]`;
  return `${r.method} ${r.path.slice(0, 300)} headers=${JSON.stringify(r.headers).slice(0, 200)}${body}`;
}

/**
 * The 5xx a request may rightly get on test:///default: 503 pool_empty, a checkout from a pool with too few
 * ready VMs (nothing taken; vmpooler's clients retry on it), and 507 insufficient_storage, an upload or disk
 * declared larger than the free space (refused before anything is read or made; issue 10). Every other 5xx
 * is a defect.
 */
function isRightful5xx(a: Answer): boolean {
  if (a.status === 507) return /"code":"insufficient_storage"/.test(a.text);
  if (a.status !== 503) return false;
  return /"code":"pool_empty"|"reason":"not enough ready VMs in /.test(a.text);
}

/** One answer's problems: a 5xx, an error body not in the front's shape, an answer that is not JSON when it says so. */
export function checkAnswer(front: Front, a: Answer): string[] {
  const problems: string[] = [];
  const dialect = FRONTS.find((f) => f.name === front)?.refusalStatuses ?? [];
  if (a.status >= 500 && !isRightful5xx(a) && !dialect.includes(a.status)) {
    problems.push(`status ${a.status}: ${a.text.slice(0, 300)}`);
  }
  const type = a.headers.get("content-type") ?? "";
  let body: unknown;
  if (type.includes("json")) {
    try {
      body = JSON.parse(a.text);
    } catch {
      problems.push(`content-type ${type} but the body is not JSON: ${a.text.slice(0, 120)}`);
    }
  }
  if (a.status >= 400 && !hasFrontShape(front, body)) {
    problems.push(`error ${a.status} not in the ${front} shape: ${type} ${a.text.slice(0, 200)}`);
  }
  return problems;
}

/** Reads an answer, without waiting forever on an event stream. */
export async function readAnswer(res: Response): Promise<Answer> {
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    await res.body?.cancel();
    return { status: res.status, text: "", headers: res.headers };
  }
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Rejects when `p` has not settled within `ms`: a hang is a defect too. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Removes every domain, network and volume that appeared since `before` (test:///default is shared by every file). */
export async function removeNew(core: Core, before: Snapshot): Promise<void> {
  await settle(core);
  const now = await snapshot(core);
  for (const key of now.keys()) {
    if (before.has(key)) continue;
    const [kind, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    const undo = async () => {
      if (kind === "domain") {
        await core.hv.call("domain.destroy", { name }).catch(() => undefined);
        await core.hv.call("domain.undefine", { name });
      } else if (kind === "network") {
        await core.hv.call("network.destroy", { name }).catch(() => undefined);
        await core.hv.call("network.undefine", { name });
      } else if (kind === "volume") {
        const [pool, volume] = name.split("/") as [string, string];
        await core.hv.call("volume.delete", { pool, volume });
      }
    };
    await undo().catch((e) => console.warn(`fuzz cleanup: ${key}: ${(e as Error).message}`));
  }
}
