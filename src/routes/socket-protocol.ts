// WebSocket subprotocols of berth: the console's, and a token carried where a browser can put it (not the URL).

/** The protocol a console client offers; the server selects it (never the token one). */
export const CONSOLE_PROTOCOL = "berth.console";
/** `berth.token.<base64url of the token>`: browsers cannot set Authorization on a WebSocket. */
const TOKEN_PROTOCOL = "berth.token.";

/** The protocols a WebSocket handshake offers, in order. */
export function offeredProtocols(headers: Headers): string[] {
  return (headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** The token offered as a subprotocol on a WebSocket upgrade, else null (ignored on any other request). */
export function socketToken(request: Request): string | null {
  if (!isWebSocketUpgrade(request)) return null;
  for (const p of offeredProtocols(request.headers)) {
    if (!p.startsWith(TOKEN_PROTOCOL)) continue;
    const encoded = p.slice(TOKEN_PROTOCOL.length);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
    return Buffer.from(encoded, "base64url").toString("utf8");
  }
  return null;
}

/** The subprotocol value that carries `token` (for clients: the dashboard, tests). */
export function tokenProtocol(token: string): string {
  return `${TOKEN_PROTOCOL}${Buffer.from(token, "utf8").toString("base64url")}`;
}
