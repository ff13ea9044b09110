// /v1/vms/{name}/addresses and /console: where a VM is reachable, and the tail of its serial console.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { vmAddresses } from "../../core/vms/addresses.ts";
import { CONSOLE_DEFAULT_LINES, CONSOLE_MAX_LINES, consoleTail } from "../../core/vms/console.ts";
import { callerOf } from "../auth.ts";
import { VmName } from "./vm-schemas.ts";

const ByName = t.Object({ name: VmName });

const NicAddressesSchema = t.Object({
  network: t.String(),
  mac: t.String(),
  vlan: t.Nullable(t.Integer()),
  addresses: t.Array(
    t.Object({
      address: t.String(),
      prefix: t.Integer(),
      family: t.Union([t.Literal("ipv4"), t.Literal("ipv6")]),
      source: t.Union([t.Literal("lease"), t.Literal("agent"), t.Literal("arp")], {
        description:
          "lease: DHCP lease of a berth NAT network; agent: the guest agent; arp: the host's ARP table",
      }),
    }),
  ),
});

const ConsoleSchema = t.Object({
  path: t.String({ description: "the live log on the host; rotated ones are <path>.0 (newest) … <path>.N" }),
  lines: t.Array(t.String(), { description: "the last lines, oldest first, without line endings" }),
});

export function vmInfoRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms/:name" })
    .get("/addresses", ({ request, params }) => vmAddresses(core, callerOf({ request }), params.name), {
      params: ByName,
      query: t.Object({}, { additionalProperties: false }),
      response: t.Array(NicAddressesSchema),
      detail: {
        summary: "A VM's IP addresses per NIC, and where each was seen (empty until known)",
        description:
          "Per NIC in order: DHCP leases of berth NAT networks (exact MAC match), the guest agent (none without one), and the host's ARP table. An address is listed once, from the first of lease, agent, arp that saw it. A stopped VM, or one whose addresses nothing knows yet, has empty lists: never an error.",
        tags: ["vms"],
      },
    })
    .get(
      "/console",
      ({ request, params, query }) =>
        consoleTail(core, callerOf({ request }), params.name, query.lines ?? CONSOLE_DEFAULT_LINES),
      {
        params: ByName,
        query: t.Object(
          {
            lines: t.Optional(
              t.Integer({
                minimum: 1,
                maximum: CONSOLE_MAX_LINES,
                description: `how many of the last lines (default ${CONSOLE_DEFAULT_LINES})`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: ConsoleSchema,
        detail: {
          summary: "The tail of the VM's serial console log, as JSON lines",
          description:
            'The serial console is logged by virtlogd, which rotates the file itself: at max_size (default 2 MiB) it becomes <path>.0 and older ones shift up to max_backups (default 3), per /etc/libvirt/virtlogd.conf. The tail reads across the rotated files, backwards, never the whole log. No log yet: no lines. (With qemu.conf stdio_handler = "file" QEMU writes the log itself and nothing rotates it.) Upgraded to a WebSocket (Upgrade: websocket), the same path is the interactive console instead: binary frames both ways, the VM\'s owner or an admin, one session per VM (409; force=1 for admins), the token in Authorization/X-AUTH-TOKEN or as the subprotocol berth.token.<base64url token> next to berth.console; refusals (401, 403 also for a foreign browser Origin, 404, 409 not running or attached) are plain HTTP answers before the upgrade; the socket closes (1000, with the reason) when the VM stops. `berth vm console <name>` is its client.',
          tags: ["vms"],
        },
      },
    );
}
