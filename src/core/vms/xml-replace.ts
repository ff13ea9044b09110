// PUT /v1/vms/{name}/xml: replaces a VM's persistent definition with a user's XML, optionally restarting it on it.
import { mkdirSync } from "node:fs";
import { disksOf } from "../../db/vms.ts";
import { BadRequest, Conflict } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { readDomainXml } from "../../xml/domain-read.ts";
import { sameUuid } from "../../xml/user-domain.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import type { Operation } from "../operations.ts";
import { consoleDir } from "../paths.ts";
import { Reverter } from "../reverter.ts";
import { isLibvirt } from "../storage-pool.ts";
import { domainState } from "./domain.ts";
import { recordState } from "./power.ts";
import { findVmRow, loadVm, vmTarget } from "./records.ts";
import { defineXml, inactiveXml, markAsBerth, recordDefinition, verifyDefined } from "./xml-define.ts";
import { allowedXml, readAhead, readHead } from "./xml-policy.ts";
import { checkOwnDisksKept } from "./xml-records.ts";

export interface ReplaceVmXmlRequest {
  xml: string;
  /** Stop (hard) and start an active VM so the new definition takes effect now. */
  restart?: boolean;
}

async function stop(core: Core, name: string): Promise<void> {
  try {
    await core.hv.call("domain.destroy", { name });
  } catch (e) {
    if (!isLibvirt(e, ErrorCode.OPERATION_INVALID)) throw e; // stopped meanwhile
  }
}

export async function replaceVmXml(
  core: Core,
  caller: Caller | null,
  name: string,
  req: ReplaceVmXmlRequest,
): Promise<Operation> {
  requireAdmin(core, caller, "give a VM raw libvirt XML");
  const row = findVmRow(core, name);
  core.locks.ensureFree(vmTarget(name));
  if (row.status === "creating") throw new Conflict(`vm ${name} is still being created`);
  const head = readHead(req.xml);
  if (head.name !== name) {
    throw new BadRequest(
      `the XML defines ${JSON.stringify(head.name)}, not ${name}: renaming is not supported`,
    );
  }
  if (head.uuid === null) {
    // libvirt refuses a same-named definition without the UUID, and berth never edits the user's XML.
    throw new BadRequest(
      `the XML has no <uuid>: give vm ${name}'s, ${row.uuid} (GET /v1/vms/${name}/xml has it)`,
    );
  }
  if (row.uuid === null || !sameUuid(head.uuid, row.uuid)) {
    throw new Conflict(`the XML's uuid ${head.uuid} is not vm ${name}'s (${row.uuid})`);
  }
  const xml = await allowedXml(core, name, row.id, req.xml);
  const facts = readAhead(req.xml);
  if (facts) checkOwnDisksKept(row.id, name, disksOf(core.db, row.id), facts);
  if ((await domainState(core, name)) === null) throw new Conflict(`vm ${name} has no domain in libvirt`);

  return core.ops.start(
    "vm.redefine",
    vmTarget(name),
    async (ctx) => {
      const before = await inactiveXml(core, name);
      const existing = disksOf(core.db, row.id);
      const r = new Reverter();
      return r.run(async () => {
        mkdirSync(consoleDir(core.config), { recursive: true });
        await defineXml(core, xml);
        r.add(`restore the previous definition of ${name}`, () =>
          core.hv.call("domain.define", { xml: before }),
        );
        const canonical = await verifyDefined(core, row, head);
        checkOwnDisksKept(row.id, name, existing, readDomainXml(canonical));
        await markAsBerth(core, name, row.id);
        ctx.progress(0.4, "defined");
        const state = await domainState(core, name);
        const restart = req.restart === true && state !== null && state !== "shutoff";
        if (restart) {
          await stop(core, name);
          r.add(`start ${name} again on its previous definition`, async () => {
            await core.hv.call("domain.define", { xml: before });
            await core.hv.call("domain.create", { name });
          });
          ctx.progress(0.6, "stopped");
          await core.hv.call("domain.create", { name });
        }
        await recordDefinition(core, row, canonical, existing);
        if (restart) recordState(core, row.id, name, (await domainState(core, name)) ?? "shutoff");
        core.events.publish("vm.redefined", vmTarget(name), { id: row.id, restarted: restart });
        return loadVm(core, name);
      });
    },
    { lock: true },
  );
}
