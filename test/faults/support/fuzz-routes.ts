// Every route of every front, read from the app itself, and a fast-check arbitrary of hostile requests to one.
import fc from "fast-check";
import type { FrontName, ListenerPlan } from "../../../src/config/fronts.ts";
import { frontAt } from "../../../src/routes/fronts/registry.ts";
import {
  CONTENT_TYPES,
  encodeLoose,
  fromSchema,
  HOSTILE_STRINGS,
  hostileString,
  hostileValue,
  hugeBody,
  INVALID_JSON,
  INVALID_UTF8,
  RAW_SEGMENTS,
} from "./fuzz-inputs.ts";

/** A front of the registry (src/routes/fronts/registry.ts). */
export type Front = FrontName;

export interface FuzzRoute {
  method: string;
  /** Elysia's pattern, e.g. /v1/vms/:name. */
  path: string;
  params: string[];
  body: unknown;
  query: unknown;
  front: Front;
  /** The listener it is served on (src/config/fronts.ts): the fuzzer sends to that listener's app. */
  address: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** What the body is, for the report: json, invalid-json, utf8, huge, empty, form. */
  kind: string;
}

/** Credentials the generator may present: good ones (auth on) and a user name to forge bad ones with. */
export interface AuthMaterial {
  /** An admin's token, name and password. */
  token: string;
  user: string;
  password: string;
  /** A plain user's token: requests come as a user too, who gets 403/404 on what is not theirs. */
  userToken?: string;
}

/** The front that answers `path` on `plan`'s listener, as the app itself decides it. */
export function frontOf(plan: ListenerPlan, path: string): Front {
  return frontAt(plan, path).name;
}

interface RouteLike {
  method: string;
  path: string;
  hooks: { body?: unknown; query?: unknown };
}

/**
 * The HTTP routes of `plan`'s app (all of them, so a new route is fuzzed without anyone listing it); a
 * WebSocket route (the console's) has its own tests, test/integration/vm-console.test.ts.
 */
export function routesOf(app: { routes: RouteLike[] }, plan: ListenerPlan): FuzzRoute[] {
  return app.routes
    .filter((r) => r.method !== "WS")
    .map((r) => ({
      method: r.method,
      path: r.path,
      params: [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string),
      body: r.hooks.body,
      query: r.hooks.query,
      front: frontOf(plan, r.path),
      address: plan.address,
    }));
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
/** Header values are Latin-1 without CR, LF or NUL (the client refuses others); everything else goes. */
const headerSafe = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, "") || "x";

function authHeaders(auth: AuthMaterial | null): fc.Arbitrary<Record<string, string>> {
  const bad: fc.Arbitrary<Record<string, string>>[] = [
    fc.constant({}),
    hostileString.map((s) => ({ "x-auth-token": headerSafe(s) })),
    hostileString.map((s) => ({ authorization: `Bearer ${headerSafe(s)}` })),
    fc.constantFrom(
      { authorization: "Basic !!!not-base64" },
      { authorization: `Basic ${b64("no-colon")}` },
      { authorization: `Basic ${b64(":")}` },
      { authorization: `Basic ${b64("admin:wrong")}` },
      { authorization: "Basic" },
      { authorization: "Bearer" },
      { authorization: "Digest username=x" },
      { authorization: `Basic ${b64("\u00ff\u0000:\u00ff")}` },
    ),
  ];
  if (!auth) return fc.oneof(...bad);
  const good = fc.constantFrom<Record<string, string>>(
    { "x-auth-token": auth.token },
    { authorization: `Bearer ${auth.token}` },
    { authorization: `Basic ${b64(`${auth.user}:${auth.password}`)}` },
    { authorization: `Basic ${b64(`${auth.user}:wrong`)}`, "x-auth-token": auth.token },
    ...(auth.userToken
      ? [{ "x-auth-token": auth.userToken }, { authorization: `Bearer ${auth.userToken}` }]
      : []),
  );
  return fc.oneof({ weight: 3, arbitrary: good }, { weight: 2, arbitrary: fc.oneof(...bad) });
}

/** A path parameter: a real name now and then, else hostile text (percent-encoded) or a raw malformed escape. */
function segment(names: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...names).map(encodeLoose) },
    { weight: 5, arbitrary: hostileString.filter((s) => s.length > 0).map(encodeLoose) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

function stringify(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v) ?? "undefined");
}

function queryArb(route: FuzzRoute, names: string[]): fc.Arbitrary<string> {
  const fromQuery = fromSchema(route.query as never, names).map((v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `q=${encodeLoose(stringify(v))}`;
    return Object.entries(v)
      .map(([k, x]) => `${encodeLoose(k)}=${encodeLoose(stringify(x))}`)
      .join("&");
  });
  return fc.oneof(
    { weight: 3, arbitrary: route.query ? fromQuery : fc.constant("") },
    { weight: 1, arbitrary: fc.constant("") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "wait=%ff",
        "wait=1&wait=true&wait=x",
        "a[b]=1&a[c]=2",
        "limit=-1",
        "limit=1e309",
        "timeout=NaN",
        "lines=99999999999",
        "lifetime=-5",
        "kind=%00",
        "=&=&",
        "%zz=%zz",
        "inactive=maybe",
      ),
    },
  );
}

/** A body as the form encoding of a generated value (vmpooler clients send JSON as curl -d). */
function formOf(v: unknown): string {
  if (typeof v !== "object" || v === null) return `v=${encodeLoose(stringify(v))}`;
  return Object.entries(v)
    .map(([k, x]) => `${encodeLoose(k)}=${encodeLoose(stringify(x))}`)
    .join("&");
}

type Body = { body?: string | Uint8Array; kind: string };

function bodyArb(route: FuzzRoute, names: string[], hugeMb: number): fc.Arbitrary<Body> {
  const value = fromSchema(route.body as never, names);
  return fc.oneof(
    { weight: 30, arbitrary: value.map((v): Body => ({ body: JSON.stringify(v) ?? "null", kind: "json" })) },
    {
      weight: 6,
      arbitrary: fc.constantFrom(...INVALID_JSON).map((b): Body => ({ body: b, kind: "invalid-json" })),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...INVALID_UTF8).map((b): Body => ({ body: b, kind: "invalid-utf8" })),
    },
    { weight: 3, arbitrary: fc.constantFrom<Body>({ kind: "none" }, { body: "", kind: "empty" }) },
    { weight: 3, arbitrary: value.map((v): Body => ({ body: formOf(v), kind: "form" })) },
    {
      weight: hugeMb > 0 ? 1 : 0,
      arbitrary: fc
        .integer({ min: 0, max: 2 })
        .map((k): Body => ({ body: hugeBody(k, hugeMb), kind: `huge-${k}` })),
    },
    {
      weight: 2,
      arbitrary: hostileValue.map((v): Body => ({ body: JSON.stringify(v) ?? "null", kind: "json-wrong" })),
    },
  );
}

export interface ArbOptions {
  names: string[];
  auth: AuthMaterial | null;
  /** Size of the occasional huge body, in MB (0: none). */
  hugeMb: number;
}

/** Hostile requests to one route: its path parameters, query, body, content type and credentials all generated. */
export function requestArb(route: FuzzRoute, opts: ArbOptions): fc.Arbitrary<FuzzRequest> {
  const hasBody = !["GET", "HEAD"].includes(route.method);
  return fc
    .record({
      segs: fc.tuple(...route.params.map(() => segment(opts.names))),
      query: queryArb(route, opts.names),
      body: hasBody ? bodyArb(route, opts.names, opts.hugeMb) : fc.constant<Body>({ kind: "none" }),
      type: fc.constantFrom(...CONTENT_TYPES),
      auth: authHeaders(opts.auth),
      extra: fc.option(
        fc.constantFrom<Record<string, string>>(
          { "last-event-id": "-1" },
          { "last-event-id": headerSafe(HOSTILE_STRINGS[24] as string) },
          { "content-length": "99999999999" },
          { "transfer-encoding": "chunked" },
          { "x-forwarded-for": "127.0.0.1" },
          { accept: "application/xml" },
        ),
        { freq: 6 },
      ),
    })
    .map(({ segs, query, body, type, auth, extra }) => {
      let i = 0;
      const path = route.path.replace(/:([A-Za-z_]+)/g, () => segs[i++] as string);
      const headers: Record<string, string> = { ...auth, ...(extra ?? {}) };
      if (body.body !== undefined && type) headers["content-type"] = type;
      return {
        method: route.method,
        path: query ? `${path}?${query}` : path,
        headers,
        body: body.body,
        kind: body.kind,
      };
    });
}
