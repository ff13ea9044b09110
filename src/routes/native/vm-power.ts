// /v1/vms/{name}/{start|stop|shutdown|restart|reset|suspend|resume}: power actions as operations.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { type PowerAction, powerVm } from "../../core/vms/index.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { optionalJson } from "./parse.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { VmName } from "./vm-schemas.ts";

const ByName = t.Object({ name: VmName });
const tags = ["vm power"];
const responses = { 200: OperationSchema, 202: OperationSchema };

const SUMMARIES: Record<Exclude<PowerAction, "shutdown">, string> = {
  start: "Start a stopped VM (409 if it is running or paused)",
  stop: "Hard stop, like pulling the plug (409 if already stopped)",
  restart: "Ask the guest to reboot (ACPI; 409 unless running)",
  reset: "Hard reset, like the reset button (409 unless running)",
  suspend: "Pause the VM's vCPUs (409 unless running)",
  resume: "Resume a paused VM (409 unless paused)",
};

const ShutdownBody = t.Optional(
  t.Object(
    {
      timeout_s: t.Optional(
        t.Integer({ minimum: 1, maximum: 3600, description: "default [vm] shutdown_timeout_s" }),
      ),
      force: t.Optional(
        t.Boolean({ description: "hard stop when the guest ignores ACPI until the timeout" }),
      ),
    },
    { additionalProperties: false },
  ),
);

export function vmPowerRoutes(core: Core) {
  let app = new Elysia({ prefix: "/v1/vms" }).post(
    "/:name/shutdown",
    async ({ request, params, body, query, set }) =>
      accepted(
        core,
        await powerVm(core, callerOf({ request }), params.name, "shutdown", body ?? {}),
        set,
        query.wait,
      ),
    {
      params: ByName,
      parse: optionalJson,
      body: ShutdownBody,
      query: WaitQuery,
      response: responses,
      detail: {
        summary:
          "ACPI shutdown, bounded by timeout_s; then fails (409 shutdown_timeout) or, with force, stops hard",
        tags,
      },
    },
  );
  for (const [action, summary] of Object.entries(SUMMARIES) as [PowerAction, string][]) {
    app = app.post(
      `/:name/${action}`,
      async ({ request, params, query, set }) =>
        accepted(core, await powerVm(core, callerOf({ request }), params.name, action), set, query.wait),
      { params: ByName, query: WaitQuery, response: responses, detail: { summary, tags } },
    );
  }
  return app;
}
