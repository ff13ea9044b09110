// vmpooler's /vm routes: pool names, all-or-nothing checkout, a VM's view, lifetime and tags, return, disks, snapshots.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  countsOfBody,
  countsOfPath,
  vmpoolerAddDisk,
  vmpoolerCheckout,
  vmpoolerPoolNames,
  vmpoolerRevert,
  vmpoolerSnapshot,
} from "../../core/fronts/vmpooler.ts";
import { vmpoolerDelete, vmpoolerUpdate, vmpoolerVm } from "../../core/fronts/vmpooler-vm.ts";
import { callerOf } from "../auth.ts";
import { documented } from "../documented.ts";
import { CheckoutOkBody, DiskOkBody, OkBody, SnapshotOkBody, VmBody } from "./bodies.ts";
import { ChangeBody, CheckoutBody, described, HostParams } from "./schemas.ts";

const tags = ["vmpooler"];
const checkoutStatuses = described({
  404: "an unknown pool or alias, or none named",
  503: "a pool had too few ready VMs: nothing was taken",
});

export function vmpoolerVmRoutes(core: Core, base: string) {
  return (
    new Elysia({ prefix: `${base}/vm` })
      .get("", () => vmpoolerPoolNames(core), {
        detail: {
          summary: "The pools a checkout accepts, each followed by its aliases",
          responses: {
            200: documented("pool names and aliases", t.Array(t.String()), ["debian-12", "debian"]),
          },
          tags,
        },
      })
      .post("", (ctx) => vmpoolerCheckout(core, countsOfBody(ctx.body), callerOf(ctx)), {
        body: CheckoutBody,
        // vmpooler clients post JSON with curl -d, whose content type is form-encoded.
        parse: "json",
        detail: {
          summary: 'Check out VMs of several pools: {"<pool>": count}; every one asked for, or none',
          responses: { 200: CheckoutOkBody, ...checkoutStatuses },
          tags,
        },
      })
      // One parameter name at this place for every method (the router's rule): here it holds pool+pool+….
      .post("/:hostname", (ctx) => vmpoolerCheckout(core, countsOfPath(ctx.params.hostname), callerOf(ctx)), {
        params: t.Object({ hostname: t.String({ maxLength: 4096, description: "pool+pool+…" }) }),
        parse: "none",
        detail: {
          summary: "Check out one VM per pool named (pool+pool+…); every one, or none",
          responses: { 200: CheckoutOkBody, ...checkoutStatuses },
          tags,
        },
      })
      .get("/:hostname", ({ request, params }) => vmpoolerVm(core, callerOf({ request }), params.hostname), {
        params: HostParams,
        detail: {
          summary:
            "A VM: template (pool), lifetime, hours running and remaining, start and end, state, tags, snapshots, added disks, ip, host; `<host>.<domain>` is accepted",
          responses: { 200: VmBody, ...described({ 404: "no such VM, or returned and gone" }) },
          tags,
        },
      })
      .put(
        "/:hostname",
        ({ request, params, body }) => vmpoolerUpdate(core, callerOf({ request }), params.hostname, body),
        {
          params: HostParams,
          body: ChangeBody,
          parse: "json",
          detail: {
            summary:
              "Change a VM's lifetime (hours from checkout; needs a token) or add tags (null or empty values skipped)",
            responses: {
              200: OkBody,
              ...described({
                400: "bad lifetime or tags, or beyond the pool's max_lifetime",
                401: "a lifetime without a token, or a VM checked out with a token",
                404: "no such VM",
                409: "not checked out from a pool (lifetime), or busy",
              }),
            },
            tags,
          },
        },
      )
      .delete(
        "/:hostname",
        ({ request, params }) => vmpoolerDelete(core, callerOf({ request }), params.hostname),
        {
          params: HostParams,
          detail: {
            summary:
              "Return a VM: its deletion is scheduled (no token needed for a VM checked out without one)",
            responses: {
              200: OkBody,
              ...described({
                401: "a VM checked out with a token",
                404: "no such VM, or already returned",
                409: "another action on it is running",
              }),
            },
            tags,
          },
        },
      )
      .post(
        "/:hostname/disk/:size",
        async ({ request, params, status }) =>
          status(202, await vmpoolerAddDisk(core, callerOf({ request }), params.hostname, params.size)),
        {
          params: t.Object({ hostname: HostParams.properties.hostname, size: t.String({ maxLength: 8 }) }),
          parse: "none",
          detail: {
            summary: "Add a blank disk of size GB (202; GET shows it once added)",
            responses: {
              202: DiskOkBody,
              ...described({ 400: "size is not 1-65536", 404: "no such VM", 409: "busy or raw XML" }),
            },
            tags,
          },
        },
      )
      .post(
        "/:hostname/snapshot",
        async ({ request, params, status }) =>
          status(202, await vmpoolerSnapshot(core, callerOf({ request }), params.hostname)),
        {
          params: HostParams,
          parse: "none",
          detail: {
            summary: "Take a snapshot (202 with its name; GET shows it once taken)",
            responses: {
              202: SnapshotOkBody,
              ...described({ 404: "no such VM", 409: "busy, or a raw disk" }),
            },
            tags,
          },
        },
      )
      .post(
        "/:hostname/snapshot/:snapshot",
        async ({ request, params, status }) =>
          status(202, await vmpoolerRevert(core, callerOf({ request }), params.hostname, params.snapshot)),
        {
          params: t.Object({
            hostname: HostParams.properties.hostname,
            snapshot: t.String({ maxLength: 63 }),
          }),
          parse: "none",
          detail: {
            summary: "Revert the VM to a snapshot (202)",
            responses: {
              202: OkBody,
              ...described({ 404: "no such VM or snapshot", 409: "busy, or its disks changed since" }),
            },
            tags,
          },
        },
      )
  );
}
