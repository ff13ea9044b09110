// Long loops on the HTTP thread run in slices: after SLICE_MS of work they let the event loop run.

/** Work between two yields: short enough that a request waiting behind it is barely delayed. */
export const SLICE_MS = 1;

/** Resolves on a later turn of the event loop, after the I/O and timers that are due. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A checkpoint to call between items: it yields once the current slice has used up SLICE_MS. */
export function slicer(sliceMs = SLICE_MS): () => Promise<void> | undefined {
  let started = performance.now();
  return () => {
    if (performance.now() - started < sliceMs) return undefined;
    return yieldToLoop().then(() => {
      started = performance.now();
    });
  };
}
