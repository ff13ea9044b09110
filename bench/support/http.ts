// A JSON client for a berth listening on a real socket (HTTP cost included in every figure).

export interface HttpReply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: benchmark code reads loosely typed JSON answers
  body: any;
}

export function httpClient(base: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<HttpReply> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    if (res.headers.get("content-type")?.includes("json") && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed };
  };
  return {
    base,
    get: (p: string) => call("GET", p),
    post: (p: string, b?: unknown) => call("POST", p, b),
    delete: (p: string) => call("DELETE", p),
    /** The reply when its status is `want`, else an error naming the request. */
    async expect(method: string, p: string, want: number, b?: unknown): Promise<HttpReply> {
      const r = await call(method, p, b);
      if (r.status !== want)
        throw new Error(`${method} ${p}: expected ${want}, got ${r.status} ${JSON.stringify(r.body)}`);
      return r;
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;
