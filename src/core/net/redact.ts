// Credentials in URLs: stored as given (berth fetches with them again), shown everywhere as `scheme://***@host/...?k=***`.

/** The user-info part of any URL in a text: from `//` to the last `@` before the host ends. */
const USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/g;
/** A URL's query string in a text: from its `?` to a space or a `#`. */
const QUERY = /(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s?#]*)\?([^\s#]*)/g;

/**
 * `text` with the user name and password of every URL in it replaced by `***` (both: a token is
 * often sent as the user name), and every query value too: a presigned URL (S3's X-Amz-Signature, a
 * `?token=`) carries its secret there. Names stay, so the shape of the URL is still seen. Works on a bare
 * URL and on a sentence that quotes URLs.
 */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, "$1***@").replace(
    QUERY,
    (_, base: string, query: string) =>
      `${base}?${query
        .split("&")
        .map((pair) => (pair.includes("=") ? `${pair.slice(0, pair.indexOf("="))}=***` : pair))
        .join("&")}`,
  );
}
