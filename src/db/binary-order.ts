// SQLite's BINARY collation in JS, for merging or re-sorting rows a query ordered.

/** Compares as SQLite's BINARY collation does; for ASCII strings (ISO times, names) that is code-unit order. */
export function binaryCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
