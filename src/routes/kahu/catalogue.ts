// Kahu's catalogue: sizes and profiles keyed by name, and this host as hypervisor instance 0 (global, never under a tenant).
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { HYPERVISOR_ID, kahuHypervisor, kahuProfile, kahuSize } from "../../core/fronts/kahu.ts";
import { findProfile, listProfiles } from "../../core/profiles.ts";
import { findSize, listSizes } from "../../core/sizes.ts";
import { NotFound } from "../../errors.ts";
import { callerOf } from "../auth.ts";

import { HypervisorBody, HypervisorsBody, ProfileBody, ProfilesBody, SizeBody, SizesBody } from "./bodies.ts";

const tags = ["kahu"];
const Name = t.Object({ name: t.String({ minLength: 1, maxLength: 253 }) });

/** Under `<base>/v0`. */
export function kahuCatalogueRoutes(core: Core) {
  return new Elysia()
    .get("/compute/size", () => Object.fromEntries(listSizes(core).map((s) => [s.name, kahuSize(s)])), {
      detail: { summary: "Sizes by name: {memory (MiB), ncpu}", responses: { 200: SizesBody }, tags },
    })
    .get("/compute/size/:name", ({ params }) => kahuSize(findSize(core, params.name)), {
      params: Name,
      detail: { summary: "One size", responses: { 200: SizeBody }, tags },
    })
    .get(
      "/compute/profile",
      (ctx) =>
        Object.fromEntries(
          listProfiles(core, callerOf(ctx)).map((p) => [
            p.name,
            kahuProfile({ name: p.name, origin: p.origin, spec: p }),
          ]),
        ),
      {
        detail: {
          summary: "Profiles by name: each one's network and storage maps",
          responses: { 200: ProfilesBody },
          tags,
        },
      },
    )
    .get("/compute/profile/:name", ({ params }) => kahuProfile(findProfile(core, params.name)), {
      params: Name,
      detail: { summary: "One profile", responses: { 200: ProfileBody }, tags },
    })
    .get("/hypervisor/instance", async () => ({ [HYPERVISOR_ID]: await kahuHypervisor(core) }), {
      detail: {
        summary: "Hypervisor instances by id: this host is 0",
        responses: { 200: HypervisorsBody },
        tags,
      },
    })
    .get(
      "/hypervisor/instance/:id",
      async ({ params }) => {
        if (params.id !== HYPERVISOR_ID)
          throw new NotFound(`hypervisor instance ${params.id} does not exist`);
        return await kahuHypervisor(core);
      },
      {
        params: t.Object({ id: t.String({ maxLength: 64 }) }),
        detail: {
          summary: "This host as hypervisor instance 0 (name, type, arch, …)",
          responses: { 200: HypervisorBody },
          tags,
        },
      },
    );
}
