// Creating a network: bridge (if managed), define, start, autostart, record; each step undone on failure.
import { insertNetwork, listNetworkRows } from "../../db/networks.ts";
import { AppError, Conflict } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { buildNetworkXml } from "../../xml/network.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { ensureBridge, removeBridge } from "../ovs.ts";
import { Reverter } from "../reverter.ts";
import { now } from "../time.ts";
import { type NetworkInput, type NetworkPlan, planNetwork, subnetsOverlap } from "./plan.ts";
import { type NetworkView, toRecord, viewOf } from "./records.ts";
import { serialize } from "./serial.ts";
import { specOf } from "./spec.ts";

export type CreateStep = "bridge" | "define" | "start" | "autostart" | "record";

/** A fault injector for tests: called before each step; throwing makes that step fail. */
export interface CreateHooks {
  before?: (step: CreateStep) => void | Promise<void>;
}

/** Re-raises a failed step with what berth was doing, keeping status, code, details and cause. */
export function withContext(what: string, e: unknown): AppError {
  if (!(e instanceof AppError)) {
    const message = e instanceof Error ? e.message : String(e);
    return new AppError(500, "internal", `${what}: ${message}`, { cause: e });
  }
  const code = e.details?.libvirtCode;
  if (code === ErrorCode.NETWORK_EXIST) return new Conflict(`${what}: ${e.message}`, { cause: e });
  return new AppError(e.httpStatus, e.errorCode, `${what}: ${e.message}`, {
    cause: e,
    ...(e.details ? { details: e.details } : {}),
  });
}

/** Conflicts with berth's other networks: the name, a NAT bridge, an overlapping subnet. */
function checkFree(core: Core, plan: NetworkPlan): void {
  for (const other of listNetworkRows(core.db)) {
    if (other.name === plan.name) throw new Conflict(`network ${plan.name} already exists`);
    const { vni, description } = plan.options;
    if (vni !== null && other.vni === vni) throw new Conflict(`network ${other.name} already has vni ${vni}`);
    if (description !== null && other.description === description) {
      throw new Conflict(`network ${other.name} already has description ${description}`);
    }
    const shared = other.bridge === plan.bridge;
    if (shared && (plan.kind === "nat" || other.kind === "nat")) {
      throw new Conflict(`bridge ${plan.bridge} is already used by network ${other.name}`);
    }
    if (plan.subnet && other.subnet && subnetsOverlap(plan.subnet, other.subnet)) {
      throw new Conflict(`subnet ${plan.subnet} overlaps ${other.subnet} of network ${other.name}`);
    }
  }
}

export function createNetwork(
  core: Core,
  caller: Caller | null,
  input: NetworkInput,
  hooks: CreateHooks = {},
): Promise<NetworkView> {
  requireAdmin(core, caller, "create networks");
  const plan = planNetwork(input);
  return serialize(core.db, async () => {
    checkFree(core, plan);
    const existing = await core.hv.call("network.list", {});
    if (existing.some((n) => n.name === plan.name)) {
      throw new Conflict(`a libvirt network named ${plan.name} exists and is not berth's`);
    }
    const name = plan.name;
    const step = async <T>(s: CreateStep, what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        await hooks.before?.(s);
        return await fn();
      } catch (e) {
        throw withContext(`network ${name}: ${what}`, e);
      }
    };
    const rec = await new Reverter().run(async (r) => {
      let ownsBridge = false;
      if (plan.kind === "ovs" && core.config.network.manage_bridges) {
        const { created } = await step("bridge", `creating OVS bridge ${plan.bridge}`, () =>
          ensureBridge(plan.bridge, core.config.network.ovs_datapath),
        );
        if (created) {
          ownsBridge = true;
          r.add(`remove OVS bridge ${plan.bridge}`, () => removeBridge(plan.bridge));
        }
      }
      await step("define", "defining", () =>
        core.hv.call("network.define", {
          xml: buildNetworkXml(specOf({ ...plan, ...plan.options, dhcp: plan.options.dhcp === 1 })),
        }),
      );
      r.add(`undefine network ${name}`, () => core.hv.call("network.undefine", { name }));
      await step("start", "starting", () => core.hv.call("network.create", { name }));
      r.add(`stop network ${name}`, () => core.hv.call("network.destroy", { name }));
      await step("autostart", "enabling autostart", () =>
        core.hv.call("network.setAutostart", { name, on: true }),
      );
      const { options, ...rest } = plan;
      const row = {
        ...rest,
        ...options,
        trunk: plan.trunk === null ? null : JSON.stringify(plan.trunk),
        owns_bridge: ownsBridge ? (1 as const) : (0 as const),
        created_at: now(),
      };
      await step("record", "recording", async () => insertNetwork(core.db, row));
      return toRecord(row);
    });
    core.events.publish("network.created", `network/${name}`, { kind: rec.kind, bridge: rec.bridge });
    // Read back rather than assume: the answer shows what libvirt now holds.
    const state = (await core.hv.call("network.list", {})).find((n) => n.name === name);
    return viewOf(rec, state);
  });
}
