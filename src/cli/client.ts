// The CLI's one HTTP client of berth's API: base URL and token, JSON calls, uploads, the event stream.
import { loadConfig } from "../config/load.ts";
import { AppError } from "../errors.ts";
import { str, type Values } from "./args.ts";

export interface ServerEvent {
  id: number;
  time: string;
  type: string;
  target: string;
  data: Record<string, unknown>;
}

/** A listen address as a URL to connect to: a wildcard host means this machine. */
export function urlOfListen(listen: string): string {
  const i = listen.lastIndexOf(":");
  let host = listen.slice(0, i);
  const port = listen.slice(i + 1);
  if (host === "" || host === "0.0.0.0") host = "127.0.0.1";
  if (host === "[::]" || host === "::") host = "[::1]";
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  return `http://${host}:${port}`;
}

/** --url, else BERTH_URL, else the local config's listen address. */
export async function resolveBase(v: Values, env = process.env): Promise<string> {
  const explicit = str(v, "url") ?? env.BERTH_URL;
  if (explicit) return explicit.replace(/\/+$/, "");
  const config = await loadConfig({ path: str(v, "config") });
  return urlOfListen(config.listen);
}

/** --token-file (first line), else BERTH_TOKEN, else none. */
export async function resolveToken(v: Values, env = process.env): Promise<string | null> {
  const file = str(v, "token-file");
  if (file) {
    const f = Bun.file(file);
    if (!(await f.exists())) throw new AppError(400, "usage", `token file ${file} does not exist`);
    const token = (await f.text()).split(/\r?\n/)[0]?.trim() ?? "";
    if (!token) throw new AppError(400, "usage", `token file ${file} is empty`);
    return token;
  }
  return env.BERTH_TOKEN?.trim() || null;
}

type Query = Record<string, string | number | boolean | undefined>;

export class Client {
  constructor(
    readonly base: string,
    private readonly token: string | null,
  ) {}

  static async from(v: Values): Promise<Client> {
    return new Client(await resolveBase(v), await resolveToken(v));
  }

  url(path: string, query: Query = {}): string {
    const u = new URL(this.base + path);
    for (const [k, val] of Object.entries(query)) if (val !== undefined) u.searchParams.set(k, String(val));
    return u.href;
  }

  /** Sends one request; a non-2xx answer throws an AppError carrying the API's status, code and message. */
  async send(
    method: string,
    path: string,
    opts: {
      query?: Query;
      body?: unknown;
      headers?: Record<string, string>;
      raw?: RequestInit["body"];
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
    if (this.token && !headers.authorization) headers.authorization = `Bearer ${this.token}`;
    let body: RequestInit["body"] | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, opts.query), { method, headers, body, signal: opts.signal });
    } catch (cause) {
      if (opts.signal?.aborted) throw cause;
      throw new AppError(
        503,
        "unreachable",
        `cannot reach berth at ${this.base}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    if (!res.ok) throw await apiError(res);
    return res;
  }

  async json<T = unknown>(
    method: string,
    path: string,
    opts: Parameters<Client["send"]>[2] = {},
  ): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  get<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.json<T>("GET", path, { query });
  }

  /** Follows /v1/events until `signal` aborts, calling `onEvent` for each; resolves when the stream ends. */
  async events(
    query: Query,
    onEvent: (e: ServerEvent) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    const res = await this.send("GET", "/v1/events", {
      query,
      signal,
      headers: { accept: "text/event-stream" },
    });
    onOpen?.();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const data = buffer
            .slice(0, end)
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart())
            .join("\n");
          buffer = buffer.slice(end + 2);
          if (data) onEvent(JSON.parse(data) as ServerEvent);
          end = buffer.indexOf("\n\n");
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    } finally {
      reader.releaseLock();
    }
  }
}

async function apiError(res: Response): Promise<AppError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    };
    if (body.error?.message)
      return new AppError(res.status, body.error.code ?? "error", body.error.message, {
        details: body.error.details,
      });
  } catch {
    // Not berth's JSON error shape (a proxy's page, say): the status line says what happened.
  }
  return new AppError(
    res.status,
    "http_error",
    `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`,
  );
}
