// vmpooler's /ondemandvm routes: VMs built for a request beyond the pools' ready stock.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  vmpoolerOndemand,
  vmpoolerOndemandDelete,
  vmpoolerOndemandPath,
  vmpoolerOndemandStatus,
} from "../../core/fronts/vmpooler-ondemand.ts";
import { callerOf } from "../auth.ts";
import { OndemandDeletedBody, OndemandOkBody, OndemandPendingBody, OndemandReadyBody } from "./bodies.ts";
import { described } from "./schemas.ts";

const tags = ["vmpooler"];
const ById = t.Object({ request_id: t.String({ minLength: 1, maxLength: 64 }) });

export function vmpoolerOndemandRoutes(core: Core, base: string) {
  return (
    new Elysia({ prefix: `${base}/ondemandvm` })
      .post("", (ctx) => ctx.status(201, vmpoolerOndemand(core, ctx.body, callerOf(ctx))), {
        body: t.Record(
          t.String({ minLength: 1, maxLength: 253 }),
          t.Union([t.Integer(), t.String({ maxLength: 64 })]),
          {
            additionalProperties: false,
            description: '{"<pool or alias>": count, …, "request_id": "<optional id of your choosing>"}',
          },
        ),
        // vmpooler clients post JSON with curl -d, whose content type is form-encoded.
        parse: "json",
        detail: {
          summary: "Ask for VMs to be built for you (201 with the request's id; poll GET until ready)",
          responses: {
            201: OndemandOkBody,
            ...described({
              400: "a bad count or request_id",
              403: "beyond the user's quota of running VMs",
              404: "an unknown pool or alias, or none named",
              409: "a request with that request_id exists",
            }),
          },
          tags,
        },
      })
      // One parameter name at this place for every method (the router's rule): here it holds pool+pool+….
      .post(
        "/:request_id",
        (ctx) => ctx.status(201, vmpoolerOndemandPath(core, ctx.params.request_id, callerOf(ctx))),
        {
          params: t.Object({
            request_id: t.String({ minLength: 1, maxLength: 4096, description: "pool+pool+…" }),
          }),
          parse: "none",
          detail: {
            summary:
              "Ask for one VM per pool named (pool+pool+…) to be built for you (201 with the request's id)",
            responses: {
              201: OndemandOkBody,
              ...described({
                403: "beyond the user's quota of running VMs",
                404: "an unknown pool or alias",
              }),
            },
            tags,
          },
        },
      )
      .get(
        "/:request_id",
        ({ params, status }) => {
          const r = vmpoolerOndemandStatus(core, params.request_id);
          return status(r.status, r.body);
        },
        {
          params: ById,
          detail: {
            summary: "A request: 202 with ready/pending counts per pool, then 200 with the host names",
            responses: {
              200: OndemandReadyBody,
              202: OndemandPendingBody,
              ...described({ 404: "no such request" }),
            },
            tags,
          },
        },
      )
      .delete("/:request_id", (ctx) => vmpoolerOndemandDelete(core, ctx.params.request_id, callerOf(ctx)), {
        params: ById,
        detail: {
          summary: "Delete a request: it stops, and the VMs it was given are returned",
          responses: {
            200: OndemandDeletedBody,
            ...described({ 403: "another user's request", 404: "no such request" }),
          },
          tags,
        },
      })
  );
}
