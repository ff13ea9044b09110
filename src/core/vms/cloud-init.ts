// The cloud-init NoCloud config drive: meta-data and user-data on an ISO 9660 volume labelled cidata.
import { chmod, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Document, stringify } from "yaml";
import type { DiskRow } from "../../db/vms.ts";
import { AppError, BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { removeStaged } from "../images/staging.ts";
import { storeVolume } from "../images/store.ts";
import { poolDir, stagingDir } from "../paths.ts";
import { SSH_KEY } from "../profile-check.ts";
import type { Reverter } from "../reverter.ts";
import { refreshPool } from "../storage-pool.ts";

/** The config drive's disk name and the volume label cloud-init looks for. */
export const CIDATA = "cidata";
/** genisoimage writes a few KiB; anything slower is a stuck filesystem. */
const GENISOIMAGE_TIMEOUT_MS = 60_000;
/** YAML folds long lines by default; an ssh key must stay on one line. */
const YAML_OPTIONS = { lineWidth: 0 } as const;

/** The config drive's volume in berth's pool; an exact name, so delete never matches another VM's. */
export const cidataVolume = (vmId: string) => `vm-${vmId}-${CIDATA}.iso`;

export interface ConfigDriveInput {
  vmId: string;
  /** The VM's name: cloud-init's local-hostname. */
  name: string;
  /** SCSI unit: after every other disk of the VM. */
  unit: number;
  sshKeys: string[];
  userData?: string;
  /** Names the VM's other disks take; the drive's name must be free. */
  diskNames: string[];
}

export interface ConfigDrivePlan {
  disk: DiskRow;
  metaData: string;
  userData: string;
}

/** NoCloud meta-data: the instance id (berth's VM id), the hostname, and the keys as public-keys. */
export function metaData(vmId: string, name: string, sshKeys: string[]): string {
  const doc: Record<string, unknown> = { "instance-id": vmId, "local-hostname": name };
  if (sshKeys.length > 0) doc["public-keys"] = sshKeys;
  return stringify(doc, YAML_OPTIONS);
}

/** The user's user-data as given; without it, a #cloud-config that authorises the keys. */
export function userData(sshKeys: string[], given?: string): string {
  if (given !== undefined) return given;
  const doc = new Document({ ssh_authorized_keys: sshKeys });
  doc.commentBefore = "cloud-config";
  return doc.toString(YAML_OPTIONS);
}

/**
 * The drive a VM gets when it has ssh keys or user-data (a VM with neither gets none). Every key
 * must be one OpenSSH public key line: a newline would add a line of its own to authorized_keys.
 */
export function planConfigDrive(core: Core, input: ConfigDriveInput): ConfigDrivePlan | null {
  const { vmId, name, unit, sshKeys } = input;
  if (sshKeys.length === 0 && input.userData === undefined) return null;
  for (const [i, key] of sshKeys.entries()) {
    if (!SSH_KEY.test(key)) throw new BadRequest(`ssh_keys[${i}] is not an OpenSSH public key line`);
  }
  if (input.diskNames.includes(CIDATA)) {
    throw new BadRequest(`disk name ${CIDATA} is the config drive's; give the disk another name`);
  }
  const volume = cidataVolume(vmId);
  return {
    disk: {
      vm_id: vmId,
      unit,
      name: CIDATA,
      volume,
      path: join(poolDir(core.config), volume),
      format: "raw",
      device: "cdrom",
      size: 0,
      image: null,
      bus: "scsi",
    },
    metaData: metaData(vmId, name, sshKeys),
    userData: userData(sshKeys, input.userData),
  };
}

/** Runs genisoimage (argv, no shell): Joliet + Rock Ridge, volume id cidata, the directory's files at the root. */
async function genisoimage(dir: string, out: string): Promise<void> {
  let proc: ReturnType<typeof Bun.spawn>;
  const argv = ["genisoimage", "-quiet", "-output", out, "-volid", CIDATA, "-joliet", "-rock", dir];
  try {
    proc = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe", timeout: GENISOIMAGE_TIMEOUT_MS });
  } catch (cause) {
    throw new AppError(500, "missing_tool", "genisoimage is not installed (install.sh installs it)", {
      cause,
    });
  }
  const [err, code] = await Promise.all([new Response(proc.stderr as ReadableStream).text(), proc.exited]);
  if (code !== 0) {
    throw new AppError(500, "config_drive_failed", `genisoimage failed (exit ${code}): ${err.trim()}`);
  }
}

/**
 * Writes the drive's two files, builds the ISO in staging and stores it as the VM's cidata volume
 * (registering its undo). Sets the disk's size to the ISO's.
 */
export async function storeConfigDrive(
  core: Core,
  pool: string,
  plan: ConfigDrivePlan,
  r: Reverter,
): Promise<void> {
  const staging = stagingDir(core.config);
  const dir = join(staging, `vm-${plan.disk.vm_id}-${CIDATA}`);
  const iso = join(staging, `vm-${plan.disk.vm_id}-${CIDATA}.iso.part`);
  await mkdir(staging, { recursive: true, mode: 0o700 });
  r.add(`remove staged ${iso}`, () => removeStaged(iso));
  try {
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, "meta-data"), plan.metaData, { mode: 0o600 });
    await writeFile(join(dir, "user-data"), plan.userData, { mode: 0o600 });
    await genisoimage(dir, iso);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // user-data may hold secrets: readable by root only, as libvirt's own volumes are (QEMU gets it via libvirt).
  await chmod(iso, 0o600);
  const st = await stat(iso);
  await storeVolume(core, r, pool, iso, plan.disk.volume, {
    format: "raw",
    virtualSize: st.size,
    allocatedSize: st.blocks * 512,
  });
  await refreshPool(core, pool);
  plan.disk.size = st.size;
}
