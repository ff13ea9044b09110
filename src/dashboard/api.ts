// The dashboard's one HTTP client: berth's native API on this origin, the token in X-AUTH-TOKEN (never in a URL), errors carrying the API's message.

const TOKEN_KEY = "berth.token";

/** The token lives in sessionStorage: this tab only, gone when it closes. */
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer other than 2xx: the status and the API's own code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The headers every call sends: the token when there is one. */
export function authHeaders(token: string | null = session.token()): Record<string, string> {
  return token ? { "x-auth-token": token } : {};
}

/** The body as JSON; null when it is not JSON (a proxy's error page): the status line then says what happened. */
function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (e instanceof SyntaxError) return null;
    throw e;
  }
}

/** The native error body {"error": {"code", "message"}}, else the status line. */
export async function errorOf(res: Response): Promise<ApiError> {
  const body = jsonOrNull(await res.text()) as { error?: { code?: unknown; message?: unknown } } | null;
  const err = body?.error;
  if (err && typeof err.message === "string") {
    return new ApiError(res.status, typeof err.code === "string" ? err.code : "error", err.message);
  }
  return new ApiError(res.status, "http", `${res.status} ${res.statusText}`.trim());
}

/** One call; the parsed JSON body, or an ApiError. */
export async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {
    accept: "application/json",
    ...authHeaders(token ?? session.token()),
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    cache: "no-store",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw await errorOf(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export interface PoolView {
  name: string;
  size: number;
  failures: number;
  counts: { pending: number; ready: number; checked_out: number; draining: number };
}

export interface VmView {
  name: string;
  status: string;
  state: string;
  tags: Record<string, string>;
  primary_ipv4: string | null;
}

export interface Lease {
  vm: string;
  pool: string;
  status: "pending" | "ready" | "checked_out" | "draining";
  owner: string | null;
  checked_out_at: string | null;
  expires_at: string | null;
}

interface Range {
  average: number;
  min: number;
  max: number;
  total: number;
}

export interface Summary {
  daily: {
    date: string;
    boot: { duration: Range; count: { total: number } };
    clone: { duration: Range; count: { total: number } };
  }[];
}
