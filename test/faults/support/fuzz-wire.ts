// Raw HTTP/1.1 over TCP: requests no fetch client would send (raw bytes in paths, lying Content-Length, broken chunks).
import { connect } from "node:net";

export interface WireAnswer {
  /** null: the server closed or stayed silent without a status line. */
  status: number | null;
  head: string;
  body: string;
}

/** Writes `bytes` to host:port and reads until the server closes or `ms` pass; the first status line wins. */
export function wire(port: number, bytes: Uint8Array | string, ms = 700): Promise<WireAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, "127.0.0.1");
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const cut = text.indexOf("\r\n\r\n");
      const head = cut >= 0 ? text.slice(0, cut) : text;
      // Only the first answer's body: bytes past a lying Content-Length may draw a second answer.
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      const rest = cut >= 0 ? text.slice(cut + 4) : "";
      resolve({ status: m ? Number(m[1]) : null, head, body: length ? rest.slice(0, Number(length)) : rest });
    };
    const timer = setTimeout(done, ms);
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", done);
    sock.on("close", done);
    sock.on("connect", () => sock.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes));
  });
}

const CRLF = "\r\n";
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

/** A request with an explicit head (header lines as written) and body bytes. */
export function rawRequest(
  line: string | Uint8Array,
  headers: string[],
  body: Uint8Array | string = "",
): Uint8Array {
  const head = [...headers, "Host: localhost", "Connection: close"].join(CRLF);
  return bytes(
    typeof line === "string" ? line : [...line],
    CRLF,
    head,
    CRLF,
    CRLF,
    typeof body === "string" ? body : [...body],
  );
}

/** Cases no fetch can send, each a name and the bytes written. */
export function wireCases(names: { vm: string; size: string }): [string, Uint8Array][] {
  const json = "Content-Type: application/json";
  const badUtf8 = bytes(
    '{"name":"',
    [0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80],
    '","vcpus":1,"memory_mib":64}',
  );
  const cases: [string, Uint8Array][] = [];
  for (const path of ["/v1/vms/", "/hosts/", "/api/v1/vm/", "/v1/sizes/", "/networks/", "/v1/images/"]) {
    cases.push([`raw 0xff 0xfe in ${path}`, rawRequest(bytes(`GET ${path}`, [0xff, 0xfe], " HTTP/1.1"), [])]);
    cases.push([
      `raw overlong / in ${path}`,
      rawRequest(bytes(`DELETE ${path}a`, [0xc0, 0xaf], "b HTTP/1.1"), []),
    ]);
    cases.push([`raw NUL in ${path}`, rawRequest(bytes(`GET ${path}a`, [0], "b HTTP/1.1"), [])]);
    cases.push([`raw ../ in ${path}`, rawRequest(`GET ${path}../../../etc/passwd HTTP/1.1`, [])]);
    cases.push([`raw quote and < in ${path}`, rawRequest(`GET ${path}a"<b>'&;x HTTP/1.1`, [])]);
  }
  for (const [method, path] of [
    ["POST", "/v1/sizes"],
    ["POST", "/v1/vms"],
    ["POST", "/hosts/fzw-host"],
    ["POST", "/networks/fzw-net"],
    ["POST", "/api/v1/vm"],
    ["PUT", `/api/v1/vm/${names.vm}`],
    ["PATCH", `/v1/vms/${names.vm}`],
    ["PUT", "/v1/images/fzw-up/upload"],
  ] as const) {
    const line = `${method} ${path} HTTP/1.1`;
    cases.push([
      `${line}: invalid UTF-8 body`,
      rawRequest(line, [json, `Content-Length: ${badUtf8.length}`], badUtf8),
    ]);
    cases.push([
      `${line}: Content-Length longer than the body`,
      rawRequest(line, [json, "Content-Length: 100000"], "{}"),
    ]);
    cases.push([
      `${line}: Content-Length shorter than the body`,
      rawRequest(line, [json, "Content-Length: 2"], '{}{"name":"evil"}GARBAGE / HTTP/1.1\r\n\r\n'),
    ]);
    cases.push([`${line}: negative Content-Length`, rawRequest(line, [json, "Content-Length: -5"], "{}")]);
    cases.push([
      `${line}: non-numeric Content-Length`,
      rawRequest(line, [json, "Content-Length: 1e3"], "{}"),
    ]);
    cases.push([
      `${line}: two Content-Lengths`,
      rawRequest(line, [json, "Content-Length: 2", "Content-Length: 10"], '{}{"a":1}xx'),
    ]);
    cases.push([
      `${line}: Content-Length and chunked`,
      rawRequest(line, [json, "Content-Length: 2", "Transfer-Encoding: chunked"], "2\r\n{}\r\n0\r\n\r\n"),
    ]);
    cases.push([
      `${line}: broken chunk size`,
      rawRequest(line, [json, "Transfer-Encoding: chunked"], "zz\r\n{}\r\n0\r\n\r\n"),
    ]);
    cases.push([
      `${line}: chunk longer than said`,
      rawRequest(line, [json, "Transfer-Encoding: chunked"], "1\r\n{}}}}\r\n0\r\n\r\n"),
    ]);
    cases.push([
      `${line}: 64 KB header`,
      rawRequest(line, [json, `X-Big: ${"a".repeat(65536)}`, "Content-Length: 2"], "{}"),
    ]);
  }
  cases.push(["HTTP/0.9 line", bytes("GET /v1\r\n\r\n")]);
  cases.push(["no version", bytes("GET /v1/vms\r\nHost: x\r\n\r\n")]);
  cases.push(["binary garbage", bytes([0x16, 0x03, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 13, 10, 13, 10])]);
  cases.push([
    `size ${names.size} delete with a header NUL`,
    rawRequest(bytes(`DELETE /v1/sizes/${names.size} HTTP/1.1`), [
      bytes("X-A: a", [0], "b").toString("latin1"),
    ]),
  ]);
  return cases;
}
