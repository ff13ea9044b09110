// Response and parameter schemas several native routes share.
import { t } from "elysia";

export const OperationSchema = t.Object({
  id: t.String(),
  kind: t.String(),
  target: t.String(),
  status: t.Union([
    t.Literal("running"),
    t.Literal("succeeded"),
    t.Literal("failed"),
    t.Literal("cancelled"),
  ]),
  progress: t.Number({ minimum: 0, maximum: 1 }),
  message: t.String(),
  error: t.Nullable(t.Object({ code: t.String(), message: t.String(), status: t.Integer() })),
  result: t.Unknown(),
  created_at: t.String(),
  updated_at: t.String(),
  finished_at: t.Nullable(t.String()),
  owner: t.Nullable(t.String({ description: "the user who started it (null: berth itself, or auth off)" })),
});

export const ErrorSchema = t.Object({
  error: t.Object({
    code: t.String(),
    message: t.String(),
    details: t.Optional(t.Record(t.String(), t.Unknown())),
  }),
});

/** `?wait=true` on an action: block (bounded) until its operation ends. */
export const WaitQuery = t.Object(
  { wait: t.Optional(t.Boolean({ description: "wait up to 300 s for the operation to end" })) },
  { additionalProperties: false },
);
