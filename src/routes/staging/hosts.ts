// The staging agent's /hosts: list, probe, create (synchronous), delete and start libvirt domains by host name.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { createHost, deleteHost, getHost, startHost } from "../../core/fronts/staging.ts";
import { stagingNameOf } from "../../core/fronts/staging-names.ts";
import { listVmViews, type Vm } from "../../core/vms/index.ts";
import { callerOf } from "../auth.ts";
import { CreateHostSchema, described, ErrorSchema, HostParams, HostSchema } from "./schemas.ts";

const tags = ["staging agent"];

/** libvirt's states in the words of `virsh list --all`, which the agent passed through. */
const VIRSH_STATE: Record<Exclude<Vm["state"], "absent">, string> = {
  running: "running",
  blocked: "idle",
  paused: "paused",
  shutdown: "in shutdown",
  shutoff: "shut off",
  crashed: "crashed",
  pmsuspended: "pmsuspended",
  nostate: "no state",
  unknown: "unknown",
};

function hostView(core: Core, vm: Vm) {
  const state =
    vm.state === "absent" ? (vm.status === "creating" ? "creating" : "gone") : VIRSH_STATE[vm.state];
  return { id: vm.id, name: stagingNameOf(core, "host", vm.name), state };
}

export function stagingHostRoutes(core: Core) {
  return new Elysia()
    .get(
      "/hosts",
      async ({ request }) => (await listVmViews(core, callerOf({ request }))).map((vm) => hostView(core, vm)),
      {
        response: t.Array(HostSchema),
        detail: { summary: "List all hosts (every berth VM, under its staging name)", tags },
      },
    )
    .get(
      "/hosts/:host",
      async ({ request, params }) => hostView(core, await getHost(core, callerOf({ request }), params.host)),
      {
        params: HostParams,
        response: { 200: HostSchema, 404: ErrorSchema },
        detail: { summary: "Probe for the host's domain: 200, or 404 when it does not exist", tags },
      },
    )
    .post(
      "/hosts/:host",
      async ({ request, params, body, status }) =>
        status(201, hostView(core, await createHost(core, callerOf({ request }), params.host, body))),
      {
        params: HostParams,
        body: CreateHostSchema,
        // The agent parsed every body as JSON whatever its content type; clients rely on that.
        parse: "json",
        response: { 201: HostSchema, 400: ErrorSchema, 409: ErrorSchema },
        detail: {
          summary: "Create the host's domain and answer once it exists (201)",
          description:
            "One vCPU; memory in MB; the first disk is the root disk (sda) and the others follow on the same virtio-scsi controller; one NIC per network. Without install the host boots from its (blank) disk. With install it boots the installer (kernel and initrd of the install tree at location) with cmdline and answers once the installer runs; when the installer powers off, berth boots the host from its disk. 400: malformed JSON, a missing or wrongly typed field, an unknown field or network, a location that is not an install tree. 409: the host exists.",
          tags,
        },
      },
    )
    .delete(
      "/hosts/:host",
      async ({ request, params, status }) => {
        await deleteHost(core, callerOf({ request }), params.host);
        return status(204, undefined);
      },
      {
        params: HostParams,
        detail: {
          summary: "Delete the host's domain and exactly its own disks (204); ends an install in progress",
          responses: described({
            204: "deleted",
            404: "no such host",
            409: "another action on it is running",
          }),
          tags,
        },
      },
    )
    .put(
      "/hosts/:host/start",
      async ({ request, params, status }) => {
        await startHost(core, callerOf({ request }), params.host);
        return status(204, undefined);
      },
      {
        params: HostParams,
        detail: {
          summary: "Start the host's domain (204; also when it already runs)",
          responses: described({ 204: "started", 404: "no such host", 409: "it is paused or busy" }),
          tags,
        },
      },
    );
}
