// Reverter: each completed step of a multi-step action registers its undo; a failure runs them in reverse.
import { log } from "../log.ts";

export class Reverter {
  #undo: { what: string; fn: () => unknown }[] = [];
  #failed: string[] = [];

  /** Undos that failed so far in the revert under way: a later undo can keep the record of what they left. */
  get failures(): readonly string[] {
    return this.#failed;
  }

  /** Registers the undo of a step that just succeeded. */
  add(what: string, fn: () => unknown): void {
    this.#undo.push({ what, fn });
  }

  /** The action succeeded: keep every step. */
  success(): void {
    this.#undo = [];
  }

  /** Undoes completed steps, newest first; an undo that fails is logged and the rest still run. */
  async revert(): Promise<string[]> {
    const failed: string[] = [];
    this.#failed = failed;
    for (const { what, fn } of this.#undo.reverse()) {
      try {
        await fn();
      } catch (e) {
        failed.push(what);
        log.error("undo failed", { step: what, error: e instanceof Error ? e.message : String(e) });
      }
    }
    this.#undo = [];
    return failed;
  }

  /** Runs `fn` with this reverter; on any error, reverts and rethrows. */
  async run<T>(fn: (r: Reverter) => Promise<T>): Promise<T> {
    try {
      const v = await fn(this);
      this.success();
      return v;
    } catch (e) {
      await this.revert();
      throw e;
    }
  }
}
