// `berth events`: follows the event stream, one line per event (JSON lines with --json), until interrupted.

import { stringify as toYaml } from "yaml";
import { AppError } from "../../errors.ts";
import { str } from "../args.ts";
import type { ServerEvent } from "../client.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../exit.ts";

const brief = (data: Record<string, unknown>) =>
  Object.entries(data)
    .map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(" ");

export const eventCommands: Command[] = [
  {
    words: ["events"],
    summary: "Follow berth's events (--type a,b and --target vm/NAME filter, exact); Ctrl-C stops",
    options: ["type", "target"],
    run: async (ctx) => {
      if (ctx.format === "csv") throw new UsageError("events print as lines, JSON or YAML, not CSV");
      const client = await ctx.client();
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      const print = (e: ServerEvent) => {
        if (ctx.format === "json") console.log(JSON.stringify(e));
        else if (ctx.format === "yaml") process.stdout.write(`---\n${toYaml(e)}`);
        else console.log(`${e.time}  ${e.type.padEnd(20)} ${e.target.padEnd(24)} ${brief(e.data)}`.trimEnd());
      };
      // Said on stderr once the stream is open: from then on no event passes unseen.
      const opened = () => process.stderr.write(`following events at ${client.base} (Ctrl-C stops)\n`);
      const query = { type: str(ctx.values, "type"), target: str(ctx.values, "target") };
      await client.events(query, print, stop.signal, opened);
      // Only Ctrl-C ends a follow cleanly; a stream the server closed is an error for scripts to see.
      if (!stop.signal.aborted)
        throw new AppError(503, "stream_ended", `the event stream of ${client.base} ended (berth stopped?)`);
      return 0;
    },
  },
];
