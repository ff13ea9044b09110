// Turns the route schemas' raw OpenAPI paths into one listener's valid 3.1 document: its security, servers, and every error in its front's shape.
import type { TSchema } from "elysia";
import type { ListenerPlan } from "../config/fronts.ts";
import type { Config } from "../config/schema.ts";
import { BERTH_VERSION } from "../version.ts";
import type { AuthRules } from "./fronts/front.ts";
import { authRules, frontAt, frontNamed } from "./fronts/registry.ts";

type Json = Record<string, unknown>;
type Operation = Json & { responses?: Record<string, Json>; parameters?: Json[]; operationId?: string };
type Requirement = Record<string, string[]>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const SAFE = new Set(["get", "head", "options"]);

const TOKEN: Requirement[] = [{ token: [] }, { bearer: [] }];
const BASIC: Requirement[] = [{ basic: [] }];

/** The credentials the auth guard (src/routes/auth.ts) reads, as OpenAPI security schemes. */
function securitySchemes(rules: AuthRules): Json {
  const schemes: Json = {
    token: {
      type: "apiKey",
      in: "header",
      name: "X-AUTH-TOKEN",
      description: "a berth token (POST /v1/tokens)",
    },
    bearer: { type: "http", scheme: "bearer", description: "a berth token as Authorization: Bearer" },
    basic: { type: "http", scheme: "basic", description: "a berth user's name and password" },
  };
  for (const c of rules.tokenCookies)
    schemes[`cookie_${c.name}`] = {
      type: "apiKey",
      in: "cookie",
      name: c.name,
      description: "a berth token its login set",
    };
  for (const v of rules.tokenValues)
    schemes[`value_${v.name}`] = {
      type: "apiKey",
      in: "query",
      name: v.name,
      description: "a berth token (query or form)",
    };
  return schemes;
}

/** What the guard asks of `method` on `path` (a sample path of the template), as alternatives; `{}` is none. */
function requirements(rules: AuthRules, method: string, path: string): Requirement[] {
  const M = method.toUpperCase();
  const cookies = rules.tokenCookies
    .filter((c) => c.pattern.test(path))
    .map((c) => ({ [`cookie_${c.name}`]: [] }));
  const values = rules.tokenValues
    .filter((v) => v.pattern.test(path))
    .map((v) => ({ [`value_${v.name}`]: [] }));
  const token = [...TOKEN, ...cookies, ...values];
  const optional = rules.optional.find((r) => r.method === M && r.pattern.test(path));
  if (optional?.by === "token") return [{}, ...token];
  if (optional?.by === "password") return [{}, ...token, ...BASIC];
  if (rules.passwordOnly.some((r) => r.method === M && r.pattern.test(path))) return BASIC;
  if (rules.passwordOrToken.some((r) => (r.method ?? M) === M && r.pattern.test(path)))
    return [...token, ...BASIC];
  return SAFE.has(method) ? [{}, ...token] : token;
}

/** OpenAPI 3.1 schemas are JSON Schema: `nullable` (3.0's) goes, the null already being in `type` or a union. */
function without31Strays(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(without31Strays);
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (k !== "nullable") out[k] = without31Strays(v);
  return out;
}

/** The front's error body, by reference to its one copy in components.schemas. */
const errorName = (front: string) => `${front}_error`;
function errorContent(front: string): Json {
  return { "application/json": { schema: { $ref: `#/components/schemas/${errorName(front)}` } } };
}

/** The operation's responses: no body on a 204, every error in the front's shape, and a catch-all for the rest. */
function withErrors(op: Operation, front: string): void {
  const responses = op.responses ?? {};
  for (const [code, response] of Object.entries(responses)) {
    if (code === "204" || code === "304") delete response.content;
    else if (!/^[23]/.test(code)) response.content = errorContent(front);
    if (/^Response for status/.test(String(response.description ?? "")))
      response.description = `status ${code}`;
  }
  if (!Object.keys(responses).some((c) => c.startsWith("4"))) {
    responses["4XX"] = {
      description: "the request was refused (bad values, credentials, permissions, unknown object)",
      content: errorContent(front),
    };
  }
  responses.default = {
    description: `any other failure, in the ${front} front's shape`,
    content: errorContent(front),
  };
  op.responses = responses;
}

/** A route mounted at two scopes shares its params schema: a parameter this path does not have is not its. */
function ownParameters(op: Operation, path: string): void {
  if (!op.parameters) return;
  op.parameters = op.parameters.filter((p) => p.in !== "path" || path.includes(`{${p.name}}`));
}

/** An operation id unique in the document, from its method and path (the plugin's repeat for shared prefixes). */
function operationId(method: string, path: string, taken: Set<string>): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const base = method + words.map((w) => (w[0] as string).toUpperCase() + w.slice(1)).join("");
  let id = base || method;
  for (let n = 2; taken.has(id); n++) id = `${base}${n}`;
  taken.add(id);
  return id;
}

/** The raw document of `listener`'s routes, made whole: security, servers, errors in each front's shape. */
export function finishDocument(
  raw: { paths: Json; components?: Json },
  config: Config,
  listener: ListenerPlan,
  info: Json,
  tags: Json[],
): Json {
  const rules = authRules(config, listener);
  const paths = without31Strays(raw.paths) as Record<string, Record<string, Operation>>;
  const taken = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    // A WebSocket route (the console's) is no OpenAPI operation: its GET's description tells of it.
    delete (item as Record<string, unknown>).ws;
    const sample = path.replace(/\{[^}]+\}/g, "x");
    const front = frontAt(listener, path);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      ownParameters(op, path);
      withErrors(op, front.name);
      op.security = requirements(rules, method, sample);
      op.operationId = operationId(method, path, taken);
    }
  }
  const components = without31Strays(raw.components ?? {}) as Json;
  const errorSchemas = Object.fromEntries(
    listener.fronts.map(({ front }) => [errorName(front), frontNamed(front).errorSchema as TSchema]),
  );
  return {
    openapi: "3.1.1",
    info: { ...info, version: BERTH_VERSION },
    servers: [{ url: "/", description: "this berth listener" }],
    tags,
    paths,
    components: {
      ...components,
      schemas: { ...((components.schemas as Json | undefined) ?? {}), ...errorSchemas },
      securitySchemes: securitySchemes(rules),
    },
  };
}
