// What makes a profile valid: its shape (pure, shared with the config file) and its references.
import { type Static, Type } from "@sinclair/typebox";
import { ProfileFields } from "../config/schema.ts";
import { BadRequest } from "../errors.ts";
import { checkDiskSize, checkShapeIfKnown } from "./capacity.ts";
import type { Core } from "./context.ts";
import { findImage } from "./images/index.ts";
import { findNetwork } from "./networks/index.ts";
import { findSize } from "./sizes.ts";

export const ProfileSpecSchema = Type.Object(ProfileFields, { additionalProperties: false });

/** Everything a profile says about the VMs made from it (all but its name); every field optional. */
export type ProfileSpec = Static<typeof ProfileSpecSchema>;

const GiB = 1024 ** 3;

/** The name the VM's first disk always has; an extra disk may not take it. */
export const ROOT_DISK = "root";

export const SSH_KEY =
  /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const CONTROL = /\p{Cc}/u;
const BOOT_FIELDS = {
  disk: [],
  kernel: ["kernel_image", "cmdline"],
  iso: ["iso_image"],
  network: ["location", "cmdline"],
} as const;

/** Rules the schema cannot state; each problem in words. Pure: the config file is checked with it too. */
export function profileProblems(spec: ProfileSpec): string[] {
  const p: string[] = [];
  const seen = new Set<string>();
  for (const d of spec.disks ?? []) {
    if (d.name === ROOT_DISK) p.push(`disk name ${ROOT_DISK} is the root disk's`);
    if (seen.has(d.name)) p.push(`disk name ${d.name} is used twice`);
    seen.add(d.name);
    if ((d.media ?? "disk") === "cdrom") {
      if (!d.image) p.push(`disk ${d.name}: a cdrom needs an image (an ISO)`);
      if (d.bus === "virtio") p.push(`disk ${d.name}: a cdrom cannot be on bus virtio (scsi, sata or usb)`);
      if (d.size_gb !== undefined) p.push(`disk ${d.name}: a cdrom has no size_gb`);
    } else if (!d.image && d.size_gb === undefined) {
      p.push(`disk ${d.name}: give size_gb, or an image to copy`);
    }
  }
  const boot = spec.boot;
  if (boot) {
    const allowed: readonly string[] = BOOT_FIELDS[boot.mode];
    for (const f of ["kernel_image", "cmdline", "iso_image", "location"] as const) {
      if (boot[f] !== undefined && !allowed.includes(f))
        p.push(`boot.${f} does not apply to boot mode ${boot.mode}`);
    }
    if (boot.mode === "kernel" && !boot.kernel_image) p.push("boot mode kernel needs kernel_image");
    if (boot.mode === "iso" && !boot.iso_image) p.push("boot mode iso needs iso_image");
    if (boot.mode === "network") {
      if (!boot.location) p.push("boot mode network needs location (the install tree URL)");
      else if (!isInstallUrl(boot.location)) p.push("boot.location must be an http, https or ftp URL");
    }
    if (boot.cmdline !== undefined && CONTROL.test(boot.cmdline)) {
      p.push("boot.cmdline may not contain control characters");
    }
  }
  for (const [i, key] of (spec.ssh_keys ?? []).entries()) {
    if (!SSH_KEY.test(key)) p.push(`ssh_keys[${i}] is not an OpenSSH public key line`);
  }
  return p;
}

function isInstallUrl(s: string): boolean {
  return URL.canParse(s) && ["http:", "https:", "ftp:"].includes(new URL(s).protocol);
}

export function checkProfileShape(name: string, spec: ProfileSpec): void {
  const problems = profileProblems(spec);
  if (problems.length > 0) throw new BadRequest(`profile ${name}: ${problems.join("; ")}`);
}

function checkImage(core: Core, name: string, want: "disk" | "iso" | "kernel", role: string): void {
  const img = findImage(core, name);
  if (img.kind !== want) throw new BadRequest(`${role}: image ${name} has kind ${img.kind}, not ${want}`);
}

/** Every size, network and image the profile names must exist (and be the right kind of image). */
export function checkProfileRefs(core: Core, spec: ProfileSpec): void {
  if (spec.size !== undefined) findSize(core, spec.size);
  for (const n of spec.networks ?? []) findNetwork(core, n);
  if (spec.image) checkImage(core, spec.image, "disk", "image");
  if (spec.boot?.kernel_image) checkImage(core, spec.boot.kernel_image, "kernel", "boot.kernel_image");
  if (spec.boot?.iso_image) checkImage(core, spec.boot.iso_image, "iso", "boot.iso_image");
  for (const d of spec.disks ?? []) {
    if (d.image) checkImage(core, d.image, d.media === "cdrom" ? "iso" : "disk", `disk ${d.name}`);
  }
}

/** What no host change can fix: vCPUs or memory beyond the host's (when known), a disk beyond max_disk_gb. */
export function checkProfileCapacity(core: Core, name: string, spec: ProfileSpec): void {
  const size = spec.size !== undefined ? findSize(core, spec.size) : null;
  const shape = {
    vcpus: spec.cpus ?? size?.vcpus ?? 0,
    memory_mib: spec.memory_mib ?? size?.memory_mib ?? 0,
  };
  checkShapeIfKnown(core, shape, `profile ${name}`);
  if (spec.root_disk_gb !== undefined)
    checkDiskSize(core, `profile ${name}: disk root`, spec.root_disk_gb * GiB);
  for (const d of spec.disks ?? []) {
    if (d.size_gb !== undefined) checkDiskSize(core, `profile ${name}: disk ${d.name}`, d.size_gb * GiB);
  }
}
