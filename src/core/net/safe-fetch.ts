// The one way berth fetches a user's URL: every address it connects to is checked, on every redirect, bounded in time and size.
import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { AppError } from "../../errors.ts";
import type { AddressPolicy } from "./addresses.ts";

/** The only two reasons a fetch fails: they never tell a closed port from a refused, reset or silent one. */
export const REFUSED = "refused: address not allowed";
export const FAILED = "fetch failed";

export const MAX_REDIRECTS = 5;
/** Connecting, TLS, the request and the response headers, over all redirects. */
export const HEADERS_TIMEOUT_MS = 30_000;

/** berth may not connect where the URL leads (a private, loopback, link-local... address). */
export class FetchRefused extends AppError {
  constructor(label: string, opts?: { cause?: unknown }) {
    super(400, "address_not_allowed", `${label}: ${REFUSED}`, opts);
  }
}

/** Nothing usable came back: no connection, a reset, a timeout, too many redirects, a broken body. */
export class FetchFailed extends AppError {
  constructor(label: string, opts?: { cause?: unknown }) {
    super(502, "fetch_failed", `${label}: ${FAILED}`, opts);
  }
}

export interface FetchOptions {
  /** Aborts the fetch; the rejection is the signal's reason (a cancel is not a failure). */
  signal: AbortSignal;
  policy: AddressPolicy;
  /** Prefixes error messages; never the URL itself (it may carry credentials). */
  label: string;
  maxRedirects?: number;
  headersTimeoutMs?: number;
  /** The body errors with 413 `too_large` past this many bytes (also when Content-Length says so). */
  maxBytes?: number;
  /** Name resolution; the system resolver (dns.lookup) unless a test stands in for a DNS server. */
  resolve?: Resolver;
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true });

export interface Fetched {
  status: number;
  statusText: string;
  /** Content-Length when the server sent one (berth asks for no content encoding). */
  length: number | undefined;
  body: ReadableStream<Uint8Array>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Marks the resolver's refusal so it survives node:http's error path. */
const REFUSED_CODE = "EBERTH_ADDRESS_NOT_ALLOWED";

function refusedLookup(): NodeJS.ErrnoException {
  return Object.assign(new Error(REFUSED), { code: REFUSED_CODE });
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Resolves, then keeps only the addresses the policy allows: those are what is connected to. */
function checkedLookup(policy: AddressPolicy, resolve: Resolver) {
  return (host: string, opts: { all?: boolean }, cb: LookupCallback) => {
    resolve(host).then(
      (addresses) => {
        const ok = addresses.filter((a) => policy(a.address));
        const first = ok[0];
        if (!first) return cb(refusedLookup(), []);
        if (opts.all) cb(null, ok);
        else cb(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => cb(err, []),
    );
  };
}

/** The URL's host as a literal IP (URL already turned 2130706433 and 0x7f000001 into 127.0.0.1), or null. */
function literalHost(url: URL): string | null {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) ? host : null;
}

/** Refuses a URL whose host is an IP literal the policy does not allow, before any connection. */
export function checkLiteralHost(url: URL, policy: AddressPolicy, label: string): void {
  const ip = literalHost(url);
  if (ip !== null && !policy(ip)) throw new FetchRefused(label);
}

function basicAuth(url: URL): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  return `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
}

/**
 * One GET, no redirect following: the response headers, or the request's error. `headersSignal`
 * bounds the wait for the headers; afterwards only the caller's signal can stop the body.
 */
function getOnce(
  url: URL,
  opts: FetchOptions,
  headersSignal: AbortSignal,
): Promise<[ClientRequest, IncomingMessage]> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        auth: basicAuth(url),
        // Content-Length then counts the bytes berth receives.
        headers: { "accept-encoding": "identity", "user-agent": "berth" },
        lookup: checkedLookup(opts.policy, opts.resolve ?? systemResolver),
        // A fresh connection each time: a pooled socket would skip the lookup and its check.
        agent: false,
      },
      (res) => {
        headersSignal.removeEventListener("abort", stopHeaders);
        opts.signal.addEventListener("abort", stopBody, { once: true });
        resolve([req, res]);
      },
    );
    const stopHeaders = () => req.destroy(headersSignal.reason);
    const stopBody = () => req.destroy(opts.signal.reason);
    headersSignal.addEventListener("abort", stopHeaders, { once: true });
    if (headersSignal.aborted) stopHeaders();
    req.on("close", () => {
      headersSignal.removeEventListener("abort", stopHeaders);
      opts.signal.removeEventListener("abort", stopBody);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The response body as a web stream, erroring past `maxBytes`; cancelling it closes the connection. */
function bodyOf(req: ClientRequest, res: IncomingMessage, opts: FetchOptions): ReadableStream<Uint8Array> {
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let bytes = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (cause) {
        if (opts.signal.aborted) return c.error(opts.signal.reason);
        return c.error(new FetchFailed(opts.label, { cause }));
      }
      if (next.done) return c.close();
      bytes += next.value.length;
      if (opts.maxBytes !== undefined && bytes > opts.maxBytes) {
        req.destroy();
        return c.error(tooLarge(opts.label, opts.maxBytes));
      }
      c.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length));
    },
    cancel() {
      req.destroy();
    },
  });
}

export function tooLarge(label: string, maxBytes: number): AppError {
  const unit = (
    [
      [1024 ** 3, "GiB"],
      [1024 ** 2, "MiB"],
    ] as const
  ).find(([n]) => maxBytes % n === 0);
  const limit = unit ? `${maxBytes / unit[0]} ${unit[1]}` : `${maxBytes} bytes`;
  return new AppError(413, "too_large", `${label}: larger than the limit of ${limit}`);
}

/**
 * GETs `url` (http or https), following at most `maxRedirects` redirects. Every host is resolved,
 * its addresses checked against the policy, and only an allowed address is connected to (no second
 * resolution a DNS answer could change). Credentials in the URL are sent only to that URL's origin.
 * A signal already aborted before the call rejects with its reason.
 */
export async function safeFetch(url: string | URL, opts: FetchOptions): Promise<Fetched> {
  opts.signal.throwIfAborted();
  const timeout = AbortSignal.timeout(opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS);
  const signal = AbortSignal.any([opts.signal, timeout]);
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== "http:" && current.protocol !== "https:") throw new FetchFailed(opts.label);
    checkLiteralHost(current, opts.policy, opts.label);
    let req: ClientRequest;
    let res: IncomingMessage;
    try {
      [req, res] = await getOnce(current, opts, signal);
    } catch (cause) {
      if (opts.signal.aborted) throw opts.signal.reason;
      if ((cause as NodeJS.ErrnoException).code === REFUSED_CODE)
        throw new FetchRefused(opts.label, { cause });
      throw new FetchFailed(opts.label, { cause });
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (REDIRECTS.has(status) && location !== undefined) {
      req.destroy();
      if (hop >= (opts.maxRedirects ?? MAX_REDIRECTS)) throw new FetchFailed(opts.label);
      // A relative Location keeps the URL's credentials (same origin); an absolute one has only its own.
      try {
        current = new URL(location, current);
      } catch (cause) {
        throw new FetchFailed(opts.label, { cause });
      }
      continue;
    }
    const header = res.headers["content-length"];
    const length = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
    if (opts.maxBytes !== undefined && length !== undefined && length > opts.maxBytes) {
      req.destroy();
      throw tooLarge(opts.label, opts.maxBytes);
    }
    return {
      status,
      statusText: res.statusMessage ?? "",
      length,
      body: bodyOf(req, res, opts),
    };
  }
}
