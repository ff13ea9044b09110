// Reads berth.toml, applies BERTH_* environment overrides and validates it once; the result is frozen.
import { Value } from "@sinclair/typebox/value";
import { ConfigError } from "../errors.ts";
import { frontPathCollisions } from "./fronts.ts";
import { type Config, ConfigSchema } from "./schema.ts";
import { storageProblems } from "./storage-rbd-schema.ts";

export const DEFAULT_CONFIG_PATH = "/etc/berth/berth.toml";

export interface LoadOptions {
  /** --config; otherwise BERTH_CONFIG; otherwise the default path, which may be absent. */
  path?: string;
  env?: Record<string, string | undefined>;
}

type Raw = Record<string, unknown>;

export async function loadConfig(opts: LoadOptions = {}): Promise<Config> {
  const env = opts.env ?? process.env;
  const explicit = opts.path || env.BERTH_CONFIG || undefined;
  const path = explicit ?? DEFAULT_CONFIG_PATH;
  const file = Bun.file(path);
  let text = "";
  if (await file.exists()) text = await file.text();
  else if (explicit) throw new ConfigError(`config file ${path} does not exist`);
  return parseConfig(text, path, env);
}

/** Parses TOML text, overlays the environment, validates; pure apart from its arguments. */
export function parseConfig(
  text: string,
  source: string,
  env: Record<string, string | undefined> = {},
): Config {
  let raw: Raw;
  try {
    raw = Bun.TOML.parse(text) as Raw;
  } catch (e) {
    const line = (e as { line?: number }).line;
    throw new ConfigError(`${source}${line ? `:${line}` : ""}: ${(e as Error).message}`);
  }
  applyEnv(raw, env);
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw));
  const problems = [...Value.Errors(ConfigSchema, withDefaults)].map(
    (e) => `${pathOf(e.path)}: ${expected(e.schema as EnumLike) ?? e.message}${describeValue(e.value)}`,
  );
  // Paths are only comparable once every front's are valid.
  if (problems.length === 0) problems.push(...frontPathCollisions(withDefaults as Config));
  if (problems.length === 0) problems.push(...storageProblems(withDefaults as Config));
  if (problems.length > 0) {
    throw new ConfigError(`${source}: invalid configuration:\n  ${problems.join("\n  ")}`, problems);
  }
  return deepFreeze(withDefaults as Config);
}

function applyEnv(raw: Raw, env: Record<string, string | undefined>): void {
  if (env.BERTH_LISTEN) raw.listen = env.BERTH_LISTEN;
  if (env.BERTH_DATA_DIR) raw.data_dir = env.BERTH_DATA_DIR;
  // install.sh's berth without systemd logs to a file logrotate rotates (SIGHUP reopens it).
  if (env.BERTH_LOG_FILE !== undefined) raw.log = { ...((raw.log ?? {}) as Raw), file: env.BERTH_LOG_FILE };
  // A second berth beside an installed one (the tests) moves or turns off PVC's listener: "" is off.
  if (env.BERTH_PVC_LISTEN !== undefined)
    raw.pvc = { ...((raw.pvc ?? {}) as Raw), listen: env.BERTH_PVC_LISTEN };
  // Likewise sysadm's two listeners: "false" turns the front off (tests never bind 12150/12151).
  if (env.BERTH_SYSADM_ENABLED !== undefined)
    raw.sysadm = { ...((raw.sysadm ?? {}) as Raw), enabled: env.BERTH_SYSADM_ENABLED === "true" };
  if (env.BERTH_HYPERVISOR_URI) {
    const hv = (raw.hypervisor ?? {}) as Raw;
    hv.uri = env.BERTH_HYPERVISOR_URI;
    raw.hypervisor = hv;
  }
}

/** TypeBox paths are JSON pointers ("/hypervisor/uri"); people read "hypervisor.uri". */
function pathOf(pointer: string): string {
  return pointer === "" ? "(top level)" : pointer.slice(1).replaceAll("/", ".");
}

/** TypeBox says "Expected union value" for enums; name the allowed values instead. */
type EnumLike = { anyOf?: { const?: unknown }[] };

function expected(schema: EnumLike): string | undefined {
  const consts = schema.anyOf?.map((s) => s.const);
  if (!consts || consts.some((c) => c === undefined)) return undefined;
  return `expected one of ${consts.map((c) => JSON.stringify(c)).join(", ")}`;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "";
  return ` (got ${JSON.stringify(v)})`;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
