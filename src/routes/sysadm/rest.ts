// sysadm's REST framing at /sysadm/<name>: Basic auth (or a berth token) per request, the body is the args, the reply {"args": ...}.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { AppError } from "../../errors.ts";
import { callerOf } from "../auth.ts";
import { documented } from "../documented.ts";
import { evaluate, SysadmRefusal } from "./protocol.ts";

const tags = ["sysadm"];
/** sysadm's REST reply: the action's answer (or its in-band error) under args. */
const ReplyBody = documented(
  'the action\'s answer under args; a failed action answers in band: {"<action>": {"error": "..."}}',
  t.Object({ args: t.Record(t.String(), t.Unknown()) }),
);

/** The reply as sysadm's REST server framed it: indented JSON, text/json, the connection closed after it. */
function reply(args: unknown): Response {
  return new Response(JSON.stringify({ args }, null, 2), {
    headers: { "content-type": "text/json; charset=utf-8", server: "SysAdm/1.0", connection: "close" },
  });
}

export function sysadmRestRoutes(core: Core) {
  const handle = async (ctx: {
    request: Request;
    params: { name: string };
    body: Record<string, unknown>;
  }) => {
    // An "args" member is the args; otherwise the whole body is (the seed's REST examples).
    const args = "args" in ctx.body ? ctx.body.args : ctx.body;
    try {
      return reply(await evaluate(core, callerOf(ctx), ctx.params.name, args));
    } catch (e) {
      if (!(e instanceof SysadmRefusal)) throw e;
      throw new AppError(e.code, e.code === 404 ? "not_found" : "bad_request", e.message);
    }
  };
  const detail = (method: string) => ({
    summary: `sysadm's ${method} /sysadm/<class> (iohyve; zfs and network minimally)`,
    responses: { 200: ReplyBody },
    tags,
  });
  const body = t.Record(t.String(), t.Unknown());
  return new Elysia({ prefix: "/sysadm" })
    .put("/:name", handle, { body, detail: detail("PUT") })
    .post("/:name", handle, { body, detail: detail("POST") });
}
