// /v1/operations: list, show, wait for and cancel long-running actions.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  cancelOperationFor,
  listOperationsFor,
  operationFor,
  waitOperationFor,
} from "../../core/operation-access.ts";
import { MAX_WAIT_SECONDS } from "../../core/operations.ts";
import { callerOf } from "../auth.ts";
import { OperationSchema } from "./schemas.ts";

const tags = ["operations"];
const Id = t.Object({ id: t.String({ maxLength: 64 }) });

export function operationRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/operations" })
    .get("", ({ request, query }) => listOperationsFor(core, callerOf({ request }), query), {
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
    .get("/:id", ({ request, params }) => operationFor(core, callerOf({ request }), params.id), {
      params: Id,
      response: OperationSchema,
      detail: { summary: "Show an operation", tags },
    })
    .get(
      "/:id/wait",
      ({ request, params, query }) =>
        waitOperationFor(core, callerOf({ request }), params.id, query.timeout ?? 30),
      {
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
      },
    )
    .delete("/:id", ({ request, params }) => cancelOperationFor(core, callerOf({ request }), params.id), {
      params: Id,
      response: OperationSchema,
      detail: { summary: "Cancel a running operation (its completed steps are undone)", tags },
    });
}
