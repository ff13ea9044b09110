// Credentials in URLs: stored as given (berth fetches with them again), shown everywhere as `scheme://***@host/...`.

/** The user-info part of any URL in a text: from `//` to the last `@` before the host ends. */
const USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/g;

/**
 * `text` with the user name and password of every URL in it replaced by `***` (both: a token is
 * often sent as the user name). Works on a bare URL and on a sentence that quotes URLs.
 */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, "$1***@");
}
