// One run at a time per key: callers that come while a run is in flight share it instead of starting another.

/** A runner keyed by object identity (a config, a connection); the entry goes when its run settles. */
export function singleFlight<T>(): (key: object, run: () => Promise<T>) => Promise<T> {
  const inFlight = new WeakMap<object, Promise<T>>();
  return (key, run) => {
    const running = inFlight.get(key);
    if (running) return running;
    const p = run().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  };
}
