// GET /v1 and GET /healthz: what this berth is and whether it is healthy.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { health, hostInfo } from "../../core/host.ts";

const HostInfo = t.Object({
  version: t.String(),
  libvirt_version: t.Nullable(t.String()),
  hypervisor_version: t.Nullable(t.String()),
  hypervisor_uri: t.String(),
  hypervisor_state: t.String({ description: "connecting, up or down" }),
  domain_type: t.String({ description: "kvm, qemu, or unknown until the hypervisor answers" }),
  features: t.Array(t.String()),
});

const Health = t.Object({
  healthy: t.Boolean(),
  checks: t.Object({ database: t.String(), hypervisor: t.String() }),
});

export function metaRoutes(core: Core) {
  return new Elysia()
    .get("/v1", () => hostInfo(core), {
      response: HostInfo,
      detail: { summary: "Version, hypervisor and feature list", tags: ["meta"] },
    })
    .get(
      "/healthz",
      async ({ set }) => {
        const h = await health(core);
        set.status = h.healthy ? 200 : 503;
        return h;
      },
      {
        response: { 200: Health, 503: Health },
        detail: {
          summary: "200 when the database and hypervisor connection are healthy, else 503",
          tags: ["meta"],
        },
      },
    );
}
