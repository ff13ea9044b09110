// /v1/operations: list, show, wait for and cancel long-running actions.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { MAX_WAIT_SECONDS } from "../../core/operations.ts";
import { OperationSchema } from "./schemas.ts";

const tags = ["operations"];
const Id = t.Object({ id: t.String({ maxLength: 64 }) });

export function operationRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/operations" })
    .get("", ({ query }) => core.ops.list(query), {
      query: t.Object(
        {
          target: t.Optional(t.String({ maxLength: 200 })),
          status: t.Optional(
            t.Union([
              t.Literal("running"),
              t.Literal("succeeded"),
              t.Literal("failed"),
              t.Literal("cancelled"),
            ]),
          ),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000 })),
        },
        { additionalProperties: false },
      ),
      response: t.Array(OperationSchema),
      detail: { summary: "List operations, newest first", tags },
    })
    .get("/:id", ({ params }) => core.ops.get(params.id), {
      params: Id,
      response: OperationSchema,
      detail: { summary: "Show an operation", tags },
    })
    .get("/:id/wait", ({ params, query }) => core.ops.wait(params.id, query.timeout ?? 30), {
      params: Id,
      query: t.Object(
        { timeout: t.Optional(t.Number({ minimum: 0, maximum: MAX_WAIT_SECONDS })) },
        { additionalProperties: false },
      ),
      response: OperationSchema,
      detail: {
        summary: "Wait until the operation ends or `timeout` seconds pass (default 30, at most 300)",
        tags,
      },
    })
    .delete("/:id", ({ params }) => core.ops.cancel(params.id), {
      params: Id,
      response: OperationSchema,
      detail: { summary: "Cancel a running operation (its completed steps are undone)", tags },
    });
}
