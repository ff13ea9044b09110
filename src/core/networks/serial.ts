// Network changes run one at a time per berth, so checks (name, bridge, subnet) and steps never interleave.

const chains = new WeakMap<object, Promise<unknown>>();

/** Runs `fn` after every earlier call with the same `key` settled. */
export function serialize<T>(key: object, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  // The chain only orders calls; each caller gets its own outcome from `next`.
  chains.set(
    key,
    next.then(
      () => undefined,
      () => undefined,
    ),
  );
  return next;
}
