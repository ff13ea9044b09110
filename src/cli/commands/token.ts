// `berth token ...`: issue a token with your password (no echo at a terminal), list and revoke tokens.
import { str } from "../args.ts";
import { type Command, enc } from "../command.ts";
import { UsageError } from "../exit.ts";
import { type Column, printList, printOne } from "../output.ts";
import { readSecret } from "../prompt.ts";

interface Token {
  id: string;
  user: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  token?: string;
}

const COLUMNS: Column<Token>[] = [
  { head: "ID", get: (t) => t.id },
  { head: "USER", get: (t) => t.user },
  { head: "CREATED", get: (t) => t.created_at },
  { head: "EXPIRES", get: (t) => t.expires_at ?? "never" },
  { head: "LAST USED", get: (t) => t.last_used_at },
];

export const tokenCommands: Command[] = [
  {
    words: ["token", "create"],
    summary:
      "Issue a token for --user (default $USER) with their password, asked without echo at a terminal or read from stdin; prints the token (export it as BERTH_TOKEN)",
    options: ["user"],
    run: async (ctx) => {
      const user = str(ctx.values, "user") ?? process.env.USER;
      if (!user) throw new UsageError("token create needs --user NAME");
      const password = await readSecret(`Password for ${user}: `);
      const basic = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
      const t = await (await ctx.client()).json<Token>("POST", "/v1/tokens", {
        headers: { authorization: basic },
      });
      if (ctx.format === "table") console.log(t.token);
      else printOne(ctx.format, t, [...COLUMNS, { head: "TOKEN", get: (x) => x.token }]);
      return 0;
    },
  },
  {
    words: ["token", "list"],
    summary: "List your tokens (never the tokens themselves)",
    run: async (ctx) => {
      printList(ctx.format, await (await ctx.client()).get<Token[]>("/v1/tokens"), COLUMNS);
      return 0;
    },
  },
  {
    words: ["token", "revoke"],
    synopsis: "<id>",
    summary: "Revoke one of your tokens",
    arity: [1, 1],
    run: async (ctx) => {
      await (await ctx.client()).send("DELETE", `/v1/tokens/${enc(ctx.args[0] as string)}`);
      if (ctx.format === "table") console.log(`revoked token ${ctx.args[0]}`);
      return 0;
    },
  },
];
