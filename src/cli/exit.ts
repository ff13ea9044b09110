// Exit statuses of the CLI and the errors that choose them: 0 ok, 1 error, 2 usage, 3 not found.
import { AppError } from "../errors.ts";

export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3 } as const;

/** A command line berth cannot act on: wrong words, options or arguments. */
export class UsageError extends AppError {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(400, "usage", message);
  }
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (e instanceof AppError && e.httpStatus === 404) return EXIT.notFound;
  return EXIT.error;
}
