// The berth command line: one binary; finds the command its words name and returns the process exit status.
import { AppError, ConfigError } from "../errors.ts";
import type { WorkerUrls } from "../server.ts";
import { type Parsed, parseCli } from "./args.ts";
import { Client } from "./client.ts";
import { allowedOptions, type Command, type Ctx, usageOf } from "./command.ts";
import { checkoutCommands } from "./commands/checkout.ts";
import { completionCommand } from "./commands/completion.ts";
import { eventCommands } from "./commands/events.ts";
import { imageCommands } from "./commands/image.ts";
import { localCommands } from "./commands/local.ts";
import { networkCommands } from "./commands/network.ts";
import { poolCommands } from "./commands/pool.ts";
import { statusCommands, versions } from "./commands/status.ts";
import { tokenCommands } from "./commands/token.ts";
import { vmCommands } from "./commands/vm.ts";
import { runConsole } from "./console.ts";
import { EXIT, exitCodeOf, UsageError } from "./exit.ts";
import { formatOf } from "./output.ts";

export function allCommands(urls: WorkerUrls): Command[] {
  const list: Command[] = [
    ...localCommands(urls),
    ...vmCommands,
    ...poolCommands,
    ...checkoutCommands,
    ...imageCommands,
    ...networkCommands,
    ...tokenCommands,
    ...eventCommands,
    ...statusCommands,
  ];
  list.push(completionCommand(() => list));
  return list;
}

const CONSOLE_ROW = ["vm console <name>", "Attach this terminal to a VM's serial console (Ctrl-] leaves)"];

/** The overview: every command with its summary's first clause, grouped as typed. */
export function overview(commands: Command[], group?: string): string {
  const shown = commands.filter((c) => !group || c.words[0] === group);
  const rows = shown.map((c) => [
    `${c.words.join(" ")}${c.synopsis ? ` ${c.synopsis}` : ""}`,
    c.summary.split(/[;(]/)[0]?.trim() ?? "",
  ]);
  // The console is no request/answer command (it owns the terminal), but it is one of vm's.
  if (!group || group === "vm") rows.push(CONSOLE_ROW);
  const width = Math.max(...rows.map((r) => (r[0] ?? "").length));
  return `usage: berth ${group ?? "<command>"} ... [options]

${rows.map(([a, b]) => `  ${(a ?? "").padEnd(width)}  ${b}`).join("\n")}

API commands talk to the running berth: --url URL (or BERTH_URL; default the listen address of the
config, --config FILE or /etc/berth/berth.toml), a token from --token-file FILE or BERTH_TOKEN.
Output: tables, or --json / --format json|yaml|csv. Exit status: 0 ok, 1 error, 2 usage, 3 not found.
\`berth <command> --help\` shows a command's options.`;
}

/** The command named by the longest run of leading words, and the arguments after them. */
function find(commands: Command[], words: string[]): { cmd: Command; args: string[] } | null {
  for (const n of [2, 1]) {
    const cmd = commands.find((c) => c.words.length === n && c.words.every((w, i) => words[i] === w));
    if (cmd) return { cmd, args: words.slice(n) };
  }
  return null;
}

function check(cmd: Command, parsed: Parsed, args: string[]): void {
  const allowed = new Set<string>(allowedOptions(cmd));
  for (const k of Object.keys(parsed.values)) {
    if (!allowed.has(k)) throw new UsageError(`berth ${cmd.words.join(" ")} takes no --${k}`, usageOf(cmd));
  }
  const [min, max] = cmd.arity ?? [0, 0];
  if (args.length < min || args.length > max)
    throw new UsageError(
      args.length < min ? "missing argument" : `unexpected argument "${args[max]}"`,
      usageOf(cmd),
    );
}

export async function runCli(argv: string[], urls: WorkerUrls): Promise<number> {
  // `vm console` parses its own options (--url, --force, ...) and owns the terminal, so it goes first.
  if (argv[0] === "vm" && argv[1] === "console") return await runConsole(argv.slice(2));
  const commands = allCommands(urls);
  try {
    let parsed: Parsed;
    try {
      parsed = parseCli(argv);
    } catch (e) {
      throw new UsageError(
        `${(e as Error).message}\n(berth --help lists the commands; berth <command> --help their options)`,
      );
    }
    const words = parsed.positionals;
    if (parsed.values.version && words.length === 0) {
      const v = parsed.values;
      console.log(await versions(() => Client.from(v)));
      return EXIT.ok;
    }
    if (words.length === 0 || (words[0] === "help" && words.length === 1)) {
      console.log(overview(commands));
      return parsed.values.help || words[0] === "help" ? EXIT.ok : EXIT.usage;
    }
    const found = find(commands, words);
    if (!found) {
      const group = commands.some((c) => c.words[0] === words[0] && c.words.length === 2);
      if (group && (parsed.values.help || words.length === 1)) {
        console.log(overview(commands, words[0]));
        return parsed.values.help ? EXIT.ok : EXIT.usage;
      }
      throw new UsageError(
        `unknown command "${words.join(" ")}"`,
        group ? overview(commands, words[0]) : overview(commands),
      );
    }
    if (parsed.values.help) {
      console.log(usageOf(found.cmd));
      return EXIT.ok;
    }
    check(found.cmd, parsed, found.args);
    let client: Promise<Client> | null = null;
    const ctx: Ctx = {
      values: parsed.values,
      args: found.args,
      format: found.cmd.local ? "table" : formatOf(parsed.values),
      client: () => {
        client ??= Client.from(parsed.values);
        return client;
      },
    };
    return await found.cmd.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) console.error(`berth: ${e.message}${e.usage ? `\n\n${e.usage}` : ""}`);
    else if (e instanceof ConfigError || e instanceof AppError) console.error(`berth: ${e.message}`);
    else console.error("berth:", e);
    return exitCodeOf(e);
  }
}
