// Shared steps of reconcile: acting under a VM's lock as an operation, and checking a domain is berth's.
import { ErrorCode } from "../../ffi/error.ts";
import { BERTH_NS } from "../../xml/domain.ts";
import { readBerthId } from "../../xml/domain-read.ts";
import type { Core } from "../context.ts";
import type { OpContext } from "../operations.ts";
import { isLibvirt } from "../storage-pool.ts";

/**
 * Runs `fn` as a locked operation on `target` (visible in /v1/operations, and a user's action on the
 * same VM meanwhile gets a 409 naming it) and resolves with its result. Throws Conflict when busy.
 */
export function asOperation<T>(
  core: Core,
  kind: string,
  target: string,
  fn: (ctx: OpContext) => Promise<T>,
): Promise<T> {
  const done = Promise.withResolvers<T>();
  core.ops.start(
    kind,
    target,
    async (ctx) => {
      try {
        const v = await fn(ctx);
        done.resolve(v);
        return v;
      } catch (e) {
        done.reject(e);
        throw e;
      }
    },
    { lock: true },
  );
  return done.promise;
}

/** True when domain `name` exists and still carries berth's metadata with this id. */
export async function domainHasBerthId(core: Core, name: string, id: string): Promise<boolean> {
  let xml: string | null;
  try {
    xml = await core.hv.call("domain.getMetadata", { name, uri: BERTH_NS });
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_DOMAIN)) return false;
    throw e;
  }
  return xml !== null && readBerthId(xml) === id;
}

/** The UUID of domain `name` when it exists and its mark, read now, carries this id; else null. */
export async function domainUuidCarrying(core: Core, name: string, id: string): Promise<string | null> {
  try {
    const [xml, info] = await Promise.all([
      core.hv.call("domain.getMetadata", { name, uri: BERTH_NS }),
      core.hv.call("domain.info", { name }),
    ]);
    return xml !== null && readBerthId(xml) === id ? info.uuid : null;
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_DOMAIN)) return null;
    throw e;
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
