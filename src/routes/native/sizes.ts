// /v1/sizes: named vCPU+memory shapes (1cpu256mb); the config file may declare some.

import { Elysia, t } from "elysia";
import { SizeSchema } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import { createSize, deleteSize, findSize, listSizes } from "../../core/sizes.ts";
import { callerOf } from "../auth.ts";

const tags = ["sizes"];
const ByName = t.Object({ name: t.String({ maxLength: 63 }) });

const SizeView = t.Object({
  name: t.String(),
  vcpus: t.Integer(),
  memory_mib: t.Integer(),
  origin: t.Union([t.Literal("api"), t.Literal("config")], {
    description: "config: declared in berth.toml, changed only there",
  }),
});

export function sizeRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/sizes" })
    .get("", () => listSizes(core), {
      response: t.Array(SizeView),
      detail: { summary: "List sizes", tags },
    })
    .post("", ({ request, body, status }) => status(201, createSize(core, callerOf({ request }), body)), {
      body: SizeSchema,
      response: { 201: SizeView },
      detail: {
        summary: "Create a size: {name, vcpus (1-256), memory_mib (16-4194304)}",
        description: "409 when the name exists or the config file declares it.",
        tags,
      },
    })
    .get("/:name", ({ params }) => findSize(core, params.name), {
      params: ByName,
      response: SizeView,
      detail: { summary: "Show a size", tags },
    })
    .delete(
      "/:name",
      ({ request, params, status }) => {
        deleteSize(core, callerOf({ request }), params.name);
        return status(204, undefined);
      },
      {
        params: ByName,
        detail: {
          responses: { 204: { description: "deleted" } },
          summary: "Delete a size (204)",
          description:
            "VMs copy vcpus and memory when they are created, so deleting a size never changes or breaks a VM. 409 while a profile names the size, or when the config file declares it.",
          tags,
        },
      },
    );
}
