// `berth vm console <name>`: the VM's serial console in this terminal, over the API's WebSocket (like virsh console).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";

/** Ctrl-] leaves, as in virsh and telnet. */
const ESCAPE = 0x1d;
/** Exit statuses: usage errors are 2; a VM that does not exist (or is hidden) is 3. */
const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3 } as const;

export const CONSOLE_USAGE = `usage: berth vm console <name> [--url URL] [--token-file FILE] [--force] [--config FILE]

Attaches this terminal to the VM's serial console; Ctrl-] leaves. The token comes from BERTH_TOKEN,
else --token-file; the API from --url, else BERTH_URL, else the config's listen address.
--force (admins) takes the console from the session that holds it.`;

interface ConsoleArgs {
  name: string;
  url: string;
  token: string | null;
  force: boolean;
}

async function parse(argv: string[]): Promise<ConsoleArgs | null> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string" },
      "token-file": { type: "string" },
      force: { type: "boolean" },
      config: { type: "string", short: "c" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals.length !== 1) return null;
  let url = values.url ?? process.env.BERTH_URL;
  if (!url) url = `http://${(await loadConfig({ path: values.config })).listen}`;
  const file = values["token-file"];
  const token = process.env.BERTH_TOKEN || (file ? readFileSync(file, "utf8").trim() : null);
  return { name: positionals[0] as string, url, token, force: values.force ?? false };
}

function socketUrl(a: ConsoleArgs): string {
  const u = new URL(`/v1/vms/${encodeURIComponent(a.name)}/console`, a.url);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.searchParams.set("follow", "1");
  if (a.force) u.searchParams.set("force", "1");
  return u.href;
}

/** A refused handshake hides the API's answer from WebSocket clients: ask again over HTTP to print it. */
async function refusal(
  a: ConsoleArgs,
  headers: Record<string, string>,
): Promise<{ status: number; message: string }> {
  const u = new URL(socketUrl(a));
  u.protocol = u.protocol === "wss:" ? "https:" : "http:";
  try {
    const r = await fetch(u, {
      headers: {
        ...headers,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
      },
    });
    if (r.status === 101) {
      await r.body?.cancel();
      return { status: 0, message: "the console opened on a second try; run the command again" };
    }
    const body = (await r.json().catch(() => null)) as { error?: { message?: string } } | null;
    return { status: r.status, message: body?.error?.message ?? `HTTP ${r.status}` };
  } catch (e) {
    return { status: 0, message: `cannot reach ${a.url}: ${(e as Error).message}` };
  }
}

export async function runConsole(argv: string[]): Promise<number> {
  let a: ConsoleArgs | null;
  try {
    a = await parse(argv);
  } catch (e) {
    console.error(`berth: ${(e as Error).message}\n\n${CONSOLE_USAGE}`);
    return EXIT.usage;
  }
  if (!a) {
    const help = argv.includes("--help") || argv.includes("-h");
    (help ? console.log : console.error)(CONSOLE_USAGE);
    return help ? EXIT.ok : EXIT.usage;
  }
  const args = a;
  const headers: Record<string, string> = args.token ? { authorization: `Bearer ${args.token}` } : {};
  // Bun's WebSocket takes headers as an option (a browser cannot: it uses the berth.token.* subprotocol).
  const ws = new WebSocket(socketUrl(args), { headers } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  let opened = false;
  let left = false;

  const restore = () => {
    stdin.off("data", onInput);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
  function onInput(chunk: Buffer): void {
    const at = chunk.indexOf(ESCAPE);
    const bytes = at >= 0 ? chunk.subarray(0, at) : chunk;
    if (bytes.length > 0 && ws.readyState === WebSocket.OPEN) ws.send(bytes);
    if (at >= 0) {
      left = true;
      ws.close(1000, "the user left");
    }
  }

  return await new Promise<number>((resolve) => {
    ws.onopen = () => {
      opened = true;
      process.stderr.write(`Connected to ${args.name} (escape character is ^])\r\n`);
      if (raw) stdin.setRawMode(true);
      stdin.on("data", onInput);
      stdin.resume();
    };
    ws.onmessage = (ev) => {
      process.stdout.write(new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onclose = async (ev) => {
      if (!opened) {
        const r = await refusal(args, headers);
        console.error(`berth: ${r.message}`);
        resolve(r.status === 404 ? EXIT.notFound : EXIT.error);
        return;
      }
      restore();
      if (!left) process.stderr.write(`\r\nberth: console closed: ${ev.reason || `code ${ev.code}`}\r\n`);
      else process.stderr.write("\r\n");
      resolve(left || ev.code === 1000 ? EXIT.ok : EXIT.error);
    };
  });
}
