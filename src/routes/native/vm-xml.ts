// /v1/vms/{name}/xml: a VM's raw libvirt XML (dump and replace), and the body of POST /v1/vms that defines one from XML.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { getVmXml } from "../../core/vms/xml-define.ts";
import { MAX_XML_BYTES } from "../../core/vms/xml-policy.ts";
import { replaceVmXml } from "../../core/vms/xml-replace.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { ProjectName, VmName } from "./vm-schemas.ts";

const strict = { additionalProperties: false } as const;
const tags = ["vm xml"];
const ByName = t.Object({ name: VmName });

/** What berth lets raw XML reach; shown in the OpenAPI descriptions of both routes that take XML. */
export const XML_POLICY =
  "Admins only (a user's raw XML is 403 `forbidden`). The XML is read against an allowlist: any element or " +
  "attribute berth does not know how to keep safe is 400 `xml_not_allowed` naming it. Disks are files of berth's " +
  "pool (this VM's own volumes, ready images read-only, or free volumes); berth sets `<driver type>` from its own " +
  "record of the volume's format (a different one is refused) and writes the backing chain explicitly, and a qcow2 " +
  "header naming a backing or data file berth did not put there is refused. NICs join berth's networks only; " +
  "serial, console, channel and parallel devices are `type='pty'`; graphics listen on loopback only and need a " +
  "`passwd` when auth is on; no relative paths, host scheduling, memory locking, hugepages or core dumps. libvirt " +
  "then validates it (a refusal is 400 `invalid_xml` with libvirt's message), and its own reading is checked " +
  "against the allowlist again (refused and undone if it differs). berth stores its own metadata (namespace " +
  "https://berth.dev/xmlns/vm/1) with virDomainSetMetadata after libvirt accepted the XML, replacing any element of " +
  "that namespace the XML carried. Disks the XML brings are never deleted by berth (deleting the VM keeps them).";

export const DefineVmXmlSchema = t.Object(
  {
    xml: t.String({
      minLength: 1,
      maxLength: MAX_XML_BYTES,
      description: "a libvirt `<domain>` document; its `<name>` is the VM's name (a DNS label)",
    }),
    start: t.Optional(
      t.Boolean({ default: false, description: "start it once defined (default false, like virsh define)" }),
    ),
    tags: t.Optional(
      t.Record(t.String({ minLength: 1, maxLength: 64 }), t.String({ maxLength: 256 }), {
        maxProperties: 64,
        description: "key/value tags",
      }),
    ),
    description: t.Optional(t.String({ maxLength: 4096, description: "default: the XML's <description>" })),
    project: t.Optional(ProjectName),
  },
  { ...strict, description: "define a VM from raw libvirt XML" },
);

const ReplaceXmlSchema = t.Object(
  {
    xml: t.String({
      minLength: 1,
      maxLength: MAX_XML_BYTES,
      description: "the new `<domain>`: same `<name>` (renames are refused) and the VM's `<uuid>`",
    }),
    restart: t.Optional(
      t.Boolean({
        default: false,
        description: "stop (hard) and start an active VM so the new definition takes effect now",
      }),
    ),
  },
  strict,
);

export function vmXmlRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms" })
    .get(
      "/:name/xml",
      async ({ request, params, query, set }) => {
        const xml = await getVmXml(core, callerOf({ request }), params.name, query.inactive);
        // Set only once there is XML: an error answered after it would be JSON labelled text/xml.
        set.headers["content-type"] = "text/xml; charset=utf-8";
        return xml;
      },
      {
        params: ByName,
        query: t.Object(
          {
            inactive: t.Optional(
              t.Boolean({ description: "the persistent definition instead of the running one" }),
            ),
          },
          strict,
        ),
        detail: {
          summary: "Dump a VM's libvirt domain XML",
          description:
            "The running definition (the persistent one when the VM is stopped, or with `inactive=true`), as libvirt " +
            "formats it, secrets such as graphics passwords included so that a PUT of it loses nothing. " +
            "404 for an unknown VM, 409 when its domain is gone from libvirt.",
          tags,
          responses: {
            200: { description: "the domain XML", content: { "text/xml": { schema: { type: "string" } } } },
            404: { description: "no such VM" },
            409: { description: "the VM has no libvirt domain" },
          },
        },
      },
    )
    .put(
      "/:name/xml",
      async ({ request, params, body, query, set }) =>
        accepted(core, await replaceVmXml(core, callerOf({ request }), params.name, body), set, query.wait),
      {
        params: ByName,
        body: ReplaceXmlSchema,
        query: WaitQuery,
        response: { 200: OperationSchema, 202: OperationSchema },
        detail: {
          summary: "Replace a VM's definition with raw libvirt XML (202 + operation)",
          description:
            "Redefines the VM (same name and UUID: libvirt replaces the persistent definition). The XML's `<name>` " +
            "must be the VM's (else 400: renaming is not supported), its `<uuid>` must be given and be the VM's " +
            "(missing: 400; another: 409). Without `restart`, a running VM keeps running on its old live " +
            "definition and picks up the new one at its next start (`GET …/xml?inactive=true` shows it); with " +
            "`restart: true` an active VM is stopped hard and started on the new definition (a stopped VM stays " +
            "stopped). berth's metadata is written again after every PUT, whatever the XML says in its namespace. " +
            "berth's record (vcpus, memory, disks, NICs) follows the new XML. A disk berth created for the VM may " +
            "not be left out (409: remove it through the disks API first). If any step fails, the previous " +
            `definition is restored (and the VM started again on it if it was restarted). ${XML_POLICY}`,
          tags,
        },
      },
    );
}
