// A tiny client for route tests: JSON requests through app.handle, no socket.

import { afterAll, beforeAll } from "bun:test";
import type { Core } from "../../src/core/context.ts";
import { createApp } from "../../src/routes/app.ts";
import { testConfig, testCore } from "./core.ts";
import { type Json, json } from "./http.ts";

type TestCore = Awaited<ReturnType<typeof testCore>>;

export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

export function apiClient(core: Core) {
  const app = createApp(core);
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    raw?: string,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined || raw !== undefined) {
      init.body = raw ?? JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : null, headers: res.headers };
  };
  return {
    app,
    get: (p: string) => call("GET", p),
    post: (p: string, b?: unknown) => call("POST", p, b),
    patch: (p: string, b?: unknown) => call("PATCH", p, b),
    put: (p: string, b?: unknown) => call("PUT", p, b),
    delete: (p: string) => call("DELETE", p),
    raw: (method: string, p: string, raw: string) => call(method, p, undefined, raw),
    /** Any method with extra headers (credentials), and an optional JSON body. */
    send: (method: string, p: string, headers: Record<string, string>, b?: unknown) =>
      call(method, p, b, undefined, headers),
    json,
  };
}

/** An HTTP basic Authorization header value. */
export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * A core on the test driver with an API client on it, opened before the file's tests and closed after
 * them; read `.core` and `.api` inside tests.
 */
export function apiOnFreshCore(toml = ""): { core: TestCore; api: ReturnType<typeof apiClient> } {
  const env = {} as { core: TestCore; api: ReturnType<typeof apiClient> };
  beforeAll(async () => {
    env.core = await testCore(testConfig(toml));
    env.api = apiClient(env.core);
  });
  afterAll(() => env.core.close());
  return env;
}
