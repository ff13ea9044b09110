// Password checks (argon2, tens of ms of CPU each) rate-limited per user and per address, a few at a time.
import type { Config } from "../../config/schema.ts";
import { AppError } from "../../errors.ts";

/** 429: too many password checks for this user or from this address, or too many waiting; retry later. */
export class TooManyRequests extends AppError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(429, "too_many_requests", message, { details: { retry_after_s: retryAfterS } });
  }
}

/** Longest user name berth accepts; longer ones share one bucket, so a client cannot grow the map with them. */
const MAX_NAME = 64;

/**
 * A token bucket per key: `perMinute` tokens at most, refilled evenly over a minute. Past `maxKeys`
 * keys the least recently used is dropped (a dropped bucket starts full again, which a client could
 * use only by sending `maxKeys` other keys first).
 */
export class Buckets {
  readonly #levels = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perMinute: number,
    readonly now: () => number = () => performance.now(),
    readonly maxKeys = 10_000,
  ) {}

  #level(key: string): { tokens: number; at: number } {
    const t = this.now();
    const b = this.#levels.get(key);
    const tokens = b
      ? Math.min(this.perMinute, b.tokens + ((t - b.at) * this.perMinute) / 60_000)
      : this.perMinute;
    return { tokens, at: t };
  }

  /** Seconds until `key` has a whole token; 0 when it has one now. */
  wait(key: string): number {
    const { tokens } = this.#level(key);
    return tokens >= 1 ? 0 : ((1 - tokens) * 60) / this.perMinute;
  }

  /** Takes one token of `key` (check `wait` first). */
  take(key: string): void {
    const b = this.#level(key);
    this.#levels.delete(key); // re-inserted last: the Map's order is least recently used first
    this.#levels.set(key, { tokens: b.tokens - 1, at: b.at });
    if (this.#levels.size > this.maxKeys) this.#levels.delete(this.#levels.keys().next().value as string);
  }
}

export interface ThrottleLimits {
  perUserPerMinute: number;
  perAddressPerMinute: number;
  concurrent: number;
  queued: number;
}

/** Runs password checks within the limits; token checks never come here (they are a hash lookup). */
export class PasswordThrottle {
  readonly #users: Buckets;
  readonly #addresses: Buckets;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly limits: ThrottleLimits,
    now?: () => number,
  ) {
    this.#users = new Buckets(limits.perUserPerMinute, now);
    this.#addresses = new Buckets(limits.perAddressPerMinute, now);
  }

  /**
   * Runs `check` (the password verification) for `user` from `address` (null without a socket: an
   * in-process request, limited per user only), or throws TooManyRequests at
   * once, before any hashing: when either's bucket is empty, or when the verifiers are busy and the
   * queue is full. A check that is let in waits its turn for one of `concurrent` verifiers.
   */
  async run<T>(user: string, address: string | null, check: () => Promise<T>): Promise<T> {
    const name = user.length > MAX_NAME ? "(too long)" : user;
    const wait = Math.max(this.#users.wait(name), address === null ? 0 : this.#addresses.wait(address));
    if (wait > 0) {
      const s = Math.ceil(wait);
      throw new TooManyRequests(`too many password attempts; retry in ${s} s (or use a token)`, s);
    }
    if (this.#running >= this.limits.concurrent && this.#waiting.length >= this.limits.queued) {
      throw new TooManyRequests("too many password checks are waiting; retry in 1 s", 1);
    }
    this.#users.take(name);
    if (address !== null) this.#addresses.take(address);
    if (this.#running >= this.limits.concurrent) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await check();
    } finally {
      // The slot passes straight to the next in line, so #running never dips below what runs.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** Checks running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }
}

// Keyed by [limits], which a SIGHUP reload keeps: a reload (logrotate's, daily) must not reset the counts.
const throttles = new WeakMap<object, PasswordThrottle>();

/** The one throttle of a configuration (and so of a running berth). */
export function passwordThrottle(config: Config): PasswordThrottle {
  let t = throttles.get(config.limits);
  if (!t) {
    const l = config.limits;
    t = new PasswordThrottle({
      perUserPerMinute: l.password_checks_per_minute_per_user,
      perAddressPerMinute: l.password_checks_per_minute_per_address,
      concurrent: l.max_concurrent_password_checks,
      queued: l.max_queued_password_checks,
    });
    throttles.set(config.limits, t);
  }
  return t;
}
