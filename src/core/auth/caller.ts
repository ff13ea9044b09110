// Who is making a request: a user resolved from a token or a password, or nobody.

export interface Caller {
  name: string;
  admin: boolean;
  /** The token the request came with; null when it authenticated with a password. */
  tokenId: string | null;
  /** berth's own work (scheduler, reconcile): never an owner, never counted against a quota. */
  system?: boolean;
}

/** The token a request presents: vmpooler's X-AUTH-TOKEN header, else `Authorization: Bearer`. */
export function presentedToken(headers: Headers): string | null {
  const vmpooler = headers.get("x-auth-token");
  if (vmpooler) return vmpooler.trim();
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  return m ? (m[1] as string) : null;
}

/** The user and password of `Authorization: Basic`, or null when the header is absent or not Basic. */
export function presentedBasic(headers: Headers): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headers.get("authorization") ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
