// Checkout of pools with a tier: hands out VMs all or nothing, then wakes the paused and saved ones.
import type { Core } from "../context.ts";
import { type CheckedOutVm, type CheckoutOptions, checkoutGrouped } from "./checkout.ts";
import { drainCheckedOut, dropBroken, markRestoring, RestoreFailed, wakeLater, wakeVm } from "./tiers.ts";

export interface AwakeOptions extends CheckoutOptions {
  /** false: answer at once, VMs of paused or saved pools `restoring` (a vm.restored event follows). */
  wait?: boolean;
}

export type AwakeVm = CheckedOutVm & { status: "running" | "restoring" };

/** Rounds of replacements for VMs whose restore failed, before the checkout fails with nothing taken. */
const REPLACE_ROUNDS = 2;

/**
 * The native checkout, then every VM of a paused or saved pool is woken. With `wait` (the default) it
 * answers once each runs; a VM that cannot be woken is drained and replaced from its pool within the same
 * checkout, and when no replacement can be had, every VM of the checkout is drained and 503
 * `restore_failed` says nothing was taken. Without `wait` it answers at once; a failure then drains the VM.
 */
export async function checkoutAwake(
  core: Core,
  request: Record<string, number>,
  opts: AwakeOptions = {},
  round = 0,
): Promise<{ vms: AwakeVm[] }> {
  const { vms, tiers } = await checkoutGrouped(core, request, opts);
  const tierOf = (pool: string) => tiers.get(pool) ?? "running";
  if (opts.wait === false) {
    const restoring = wakeLater(core, vms, tierOf);
    return { vms: vms.map((vm) => ({ ...vm, status: restoring.has(vm.name) ? "restoring" : "running" })) };
  }
  const asleep = vms.filter((vm) => tierOf(vm.pool) !== "running");
  if (asleep.length === 0) return { vms: vms.map((vm) => ({ ...vm, status: "running" })) };

  markRestoring(
    core,
    asleep.map((vm) => vm.name),
  );
  // Each wake takes its VM's lock at once, before anything else can be scheduled.
  const wakes = new Map(asleep.map((vm) => [vm.name, wakeVm(core, vm.name)]));

  const broken: { vm: CheckedOutVm; error: unknown }[] = [];
  for (const vm of asleep) {
    await wakes.get(vm.name)?.catch((error: unknown) => {
      broken.push({ vm, error });
    });
  }
  if (broken.length === 0) return { vms: vms.map((vm) => ({ ...vm, status: "running" })) };

  for (const b of broken) dropBroken(core, b.vm.name, b.vm.pool, b.error);
  const good = vms.filter((vm) => !broken.some((b) => b.vm.name === vm.name));
  try {
    if (round >= REPLACE_ROUNDS) throw broken[0]?.error;
    const again: Record<string, number> = {};
    for (const b of broken) again[b.vm.pool] = (again[b.vm.pool] ?? 0) + 1;
    const { vms: more } = await checkoutAwake(core, again, { ...opts, wait: true }, round + 1);
    // A replacement stands in for what was asked: keep the name the caller used (pool or alias).
    const asked = broken.map((b) => b.vm);
    const replaced = more.map((vm) => {
      const i = asked.findIndex((a) => a.pool === vm.pool);
      const [was] = asked.splice(i, 1);
      return { ...vm, requested: was?.requested ?? vm.requested };
    });
    return { vms: [...good.map((vm) => ({ ...vm, status: "running" as const })), ...replaced] };
  } catch (cause) {
    for (const vm of good)
      drainCheckedOut(core, vm.name, vm.pool, "another VM of its checkout could not be woken");
    throw new RestoreFailed(
      `could not wake ${broken.map((b) => b.vm.name).join(", ")} and no replacement could be had; nothing was checked out`,
      { cause, details: { vms: broken.map((b) => b.vm.name) } },
    );
  }
}
