// Creating one pool member's VM: the create its pool's spec asks for, recorded with the member in one commit.
import { insertMember, setMemberVmId } from "../../db/pools.ts";
import { SYSTEM } from "../auth/access.ts";
import type { Core } from "../context.ts";
import { createVm } from "../vms/create.ts";
import type { CreateVmRequest } from "../vms/plan.ts";
import type { PoolRecord } from "./records.ts";

/** One member to create: everything the thread that builds it needs, as plain data. */
export interface MemberCreate {
  pool: string;
  generation: number;
  /** The VM's (and member's) name. */
  name: string;
  created_at: string;
  request: CreateVmRequest;
  /** The id its create operation is recorded under. */
  operation: string;
}

/**
 * Starts a member's create; resolves once the VM and its member are recorded (the build goes on as the
 * operation `m.operation`), rejects when the create is refused (nothing recorded).
 */
export type CreateMember = (m: MemberCreate) => Promise<void>;

/** The create a member of `pool` named `name` asks for. */
export function memberRequest(pool: PoolRecord, name: string): CreateVmRequest {
  const { spec } = pool;
  return {
    name,
    ...(spec.profile !== undefined ? { profile: spec.profile } : { image: spec.image, size: spec.vm_size }),
    ...(spec.networks !== undefined ? { networks: spec.networks } : {}),
    start: true,
    tags: { pool: pool.name },
    description: `pool ${pool.name}`,
  };
}

/** Creates members on `core`'s own thread. */
export function createMemberHere(core: Core): CreateMember {
  return async (m) => {
    await createVm(core, SYSTEM, m.request, {
      // The member is recorded, with its VM's id, in the commit that records the VM: one commit, and a
      // crash leaves both or neither. A create refused before that leaves no member to forget.
      recorded: (row) => {
        insertMember(core.db, {
          vm_name: m.name,
          pool: m.pool,
          generation: m.generation,
          created_at: m.created_at,
        });
        setMemberVmId(core.db, m.name, row.id);
      },
      background: true,
      operationId: m.operation,
    });
  };
}
