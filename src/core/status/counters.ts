// In-memory checkout counters (since this process started), read by /metrics.

export type CheckoutOutcome = "success" | "empty" | "invalid";

export type CheckoutCounts = Record<CheckoutOutcome, number>;

/** Per core, so test cores in one process do not share counts. */
const counts = new WeakMap<object, CheckoutCounts>();

function of(core: object): CheckoutCounts {
  let c = counts.get(core);
  if (!c) {
    c = { success: 0, empty: 0, invalid: 0 };
    counts.set(core, c);
  }
  return c;
}

export function countCheckout(core: object, outcome: CheckoutOutcome): void {
  of(core)[outcome]++;
}

export function checkoutCounts(core: object): Readonly<CheckoutCounts> {
  return { ...of(core) };
}
