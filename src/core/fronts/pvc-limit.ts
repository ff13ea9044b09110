// PVC's `limit` value: a Python-style regex wrapped in .* as PVC did, matched in linear time by RE2 (re2js) so user patterns cannot backtrack catastrophically.
import { RE2JS } from "re2js";
import { AppError } from "../../errors.ts";

/** Longer patterns are refused: a limit names things, and RE2's compile cost grows with the pattern. */
export const PVC_LIMIT_MAX_CHARS = 1024;

/** A `limit` that is not a regex berth can run: PVC answered "Regex Error: <why>". */
export class PvcRegexError extends AppError {
  constructor(why: string, opts?: { cause?: unknown }) {
    super(400, "invalid_regex", `Regex Error: ${why}`, opts);
  }
}

/**
 * PVC's rule (client-common get_list): `.*` is prepended unless the pattern starts with `^`, and
 * appended unless it contains a `$`; the result must match at the start of the candidate (Python's
 * re.match). Supported syntax is RE2's, i.e. Python's `re` without backreferences (\1, (?P=name)),
 * lookaround ((?=, (?!, (?<=, (?<!), possessive/atomic groups, conditionals and \Z (write $);
 * (?P<name>...), (?i)/(?s)/(?m), classes, \d \w \s (ASCII only) and {m,n} work as in Python.
 * Unsupported syntax is a PvcRegexError. No limit (undefined or empty) matches everything.
 */
export function pvcLimitMatcher(limit: string | undefined): (candidate: string) => boolean {
  if (limit === undefined || limit === "") return () => true;
  if (limit.length > PVC_LIMIT_MAX_CHARS) {
    throw new PvcRegexError(`the pattern is longer than ${PVC_LIMIT_MAX_CHARS} characters`);
  }
  const wrapped = `${limit.startsWith("^") ? "" : ".*"}${limit}${limit.includes("$") ? "" : ".*"}`;
  let re: RE2JS;
  try {
    RE2JS.compile(limit); // so the error names the user's pattern, not the wrapped one
    re = RE2JS.compile(wrapped);
  } catch (e) {
    throw new PvcRegexError((e as Error).message, { cause: e });
  }
  return (candidate) => re.matcher(candidate).lookingAt();
}
