// Install trees: finding the installer's kernel and initrd under a location URL, and fetching them into the pool.
import { mkdir, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { decode } from "ini";
import { AppError, BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { stageUrl } from "../images/import-url.ts";
import { removeStaged } from "../images/staging.ts";
import { storeVolume } from "../images/store.ts";
import type { OpContext } from "../operations.ts";
import { stagingDir } from "../paths.ts";
import type { Reverter } from "../reverter.ts";
import { installVolumes } from "./install-boot.ts";

/**
 * Where the installer lives in a tree:
 * - `treeinfo`: `.treeinfo` (or `treeinfo`) at the location, `[images-x86_64] kernel=, initrd=`;
 * - `debian-installer`: the location is `…/dists/<suite>/main/installer-amd64/` (what virt-install takes),
 *   or the suite root `…/dists/<suite>/`, recognised by `current/images/MANIFEST` (also
 *   `current/legacy-images/` and `daily/`) naming Debian or Ubuntu; the kernel is
 *   `<images>/netboot/<debian|ubuntu>-installer/amd64/linux` with `initrd.gz` beside it;
 * - `netboot`: the location is the netboot directory itself, holding `linux` and `initrd.gz`.
 */
export type TreeLayout = "treeinfo" | "debian-installer" | "netboot";

export interface InstallTree {
  /** The location as berth reads it: a directory URL (with its trailing slash). */
  location: string;
  layout: TreeLayout;
  kernel: string;
  initrd: string;
}

/** Detection asks a few small files; all of it must answer within this long. */
export const DETECT_TIMEOUT_MS = 30_000;
/** .treeinfo and MANIFEST files are a few KiB; anything past this is not one. */
const MAX_TEXT_BYTES = 1024 * 1024;
/** Where "HdrS" sits in an x86 bzImage: the Linux boot protocol header. */
const BZIMAGE_MAGIC_OFFSET = 0x202;
const DEBIAN_IMAGES = ["current/images", "current/legacy-images", "daily"];
const ARCH = "x86_64";
const DEBIAN_ARCH = "amd64";

export function notAnInstallTree(location: string, why: string): AppError {
  return new AppError(400, "not_an_install_tree", `${location} is not an install tree: ${why}`);
}

/** The location as a directory URL; http and https only (fetch speaks nothing else). */
export function checkLocation(location: string): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch (cause) {
    throw new BadRequest(`install location ${JSON.stringify(location)} is not a URL`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BadRequest(
      `install location ${location}: only http and https install trees can be fetched (got ${url.protocol})`,
    );
  }
  url.search = "";
  url.hash = "";
  // virt-install's examples omit the trailing slash; relative paths resolve inside the tree only with it.
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

class Unreachable extends Error {}

/** GET `url`: the response when it is 2xx, null when the server says it is not there. */
async function get(url: URL, signal: AbortSignal): Promise<Response | null> {
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: "follow" });
  } catch (cause) {
    const why = signal.aborted ? `no answer within ${DETECT_TIMEOUT_MS / 1000} s` : (cause as Error).message;
    throw new Unreachable(`GET ${url.href} failed: ${why}`, { cause });
  }
  if (res.ok) return res;
  await res.body?.cancel();
  return null;
}

async function exists(url: URL, signal: AbortSignal): Promise<boolean> {
  const res = await get(url, signal);
  await res?.body?.cancel();
  return res !== null;
}

/** The body of a small text file, or null when absent or too large to be one. */
async function text(url: URL, signal: AbortSignal): Promise<string | null> {
  const res = await get(url, signal);
  if (!res?.body) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.length;
      // Leaving the loop cancels the stream.
      if (size > MAX_TEXT_BYTES) return null;
      chunks.push(chunk);
    }
  } catch (cause) {
    throw new Unreachable(`reading ${url.href} failed: ${(cause as Error).message}`, { cause });
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** A path the tree names, resolved inside the tree (a tree may not send berth to another host or dir). */
function inTree(base: URL, path: string, file: string): string {
  const url = new URL(path, base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
    throw notAnInstallTree(base.href, `${file} points outside the tree (${path})`);
  }
  return url.href;
}

function fromTreeinfo(base: URL, body: string, file: string): InstallTree {
  let ini: Record<string, Record<string, unknown> | undefined>;
  try {
    ini = decode(body) as typeof ini;
  } catch (cause) {
    throw notAnInstallTree(base.href, `${file} is not an INI file (${(cause as Error).message})`);
  }
  const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
  // productmd 1.x writes the arch in [tree]; older trees in [general].
  const arch = str(ini.tree?.arch) ?? str(ini.general?.arch) ?? ARCH;
  if (arch !== ARCH)
    throw notAnInstallTree(base.href, `${file} is for ${arch}; berth installs ${ARCH} guests`);
  const images = ini[`images-${arch}`];
  const kernel = str(images?.kernel);
  const initrd = str(images?.initrd);
  if (!kernel || !initrd)
    throw notAnInstallTree(base.href, `${file} names no [images-${arch}] kernel and initrd`);
  return {
    location: base.href,
    layout: "treeinfo",
    kernel: inTree(base, kernel, file),
    initrd: inTree(base, initrd, file),
  };
}

/** A d-i directory (`…/main/installer-<arch>/`) as virt-install recognises it: a MANIFEST naming the distro. */
async function debianInstaller(base: URL, dir: URL, signal: AbortSignal): Promise<InstallTree | null> {
  const arch = /\/installer-([A-Za-z0-9]+)\/$/.exec(dir.pathname)?.[1];
  if (arch !== undefined && arch !== DEBIAN_ARCH) {
    throw notAnInstallTree(base.href, `it is the ${arch} installer; berth installs ${DEBIAN_ARCH} (${ARCH})`);
  }
  for (const images of DEBIAN_IMAGES) {
    const manifest = await text(new URL(`${images}/MANIFEST`, dir), signal);
    if (manifest === null) continue;
    const distro = /ubuntu/i.test(manifest) ? "ubuntu" : /debian/i.test(manifest) ? "debian" : null;
    if (distro === null) continue;
    const netboot = new URL(`${images}/netboot/${distro}-installer/${DEBIAN_ARCH}/`, dir);
    const kernel = new URL("linux", netboot);
    const initrd = new URL("initrd.gz", netboot);
    if (!(await exists(kernel, signal)) || !(await exists(initrd, signal))) {
      throw notAnInstallTree(
        base.href,
        `${images}/MANIFEST is there but ${netboot.href} has no linux and initrd.gz`,
      );
    }
    return { location: base.href, layout: "debian-installer", kernel: kernel.href, initrd: initrd.href };
  }
  return null;
}

async function detect(base: URL, signal: AbortSignal): Promise<InstallTree | null> {
  // Anaconda reads both names; CDNs that hide dotfiles serve only the second.
  for (const file of [".treeinfo", "treeinfo"]) {
    const body = await text(new URL(file, base), signal);
    if (body !== null) return fromTreeinfo(base, body, file);
  }
  for (const dir of [base, new URL(`main/installer-${DEBIAN_ARCH}/`, base)]) {
    const tree = await debianInstaller(base, dir, signal);
    if (tree) return tree;
  }
  const kernel = new URL("linux", base);
  const initrd = new URL("initrd.gz", base);
  if ((await exists(kernel, signal)) && (await exists(initrd, signal))) {
    return { location: base.href, layout: "netboot", kernel: kernel.href, initrd: initrd.href };
  }
  return null;
}

/**
 * Finds the installer kernel and initrd of the tree at `location`, or throws 400 `not_an_install_tree`
 * (also when nothing answers there). Reads only small files; bounded by DETECT_TIMEOUT_MS.
 */
export async function findInstallTree(location: string): Promise<InstallTree> {
  const base = checkLocation(location);
  try {
    const tree = await detect(base, AbortSignal.timeout(DETECT_TIMEOUT_MS));
    if (tree) return tree;
  } catch (e) {
    if (e instanceof Unreachable)
      throw new AppError(400, "not_an_install_tree", `${base.href} could not be read: ${e.message}`, {
        cause: e,
      });
    throw e;
  }
  throw notAnInstallTree(
    base.href,
    "no .treeinfo, no Debian/Ubuntu installer (current/images/MANIFEST), no netboot linux + initrd.gz",
  );
}

async function isBzImage(file: string): Promise<boolean> {
  await using fh = await open(file, "r");
  const buf = Buffer.alloc(4);
  const { bytesRead } = await fh.read(buf, 0, 4, BZIMAGE_MAGIC_OFFSET);
  return bytesRead === 4 && buf.toString("latin1") === "HdrS";
}

/** Downloads the tree's kernel and initrd into the VM's install volumes; each step registers its undo. */
export async function fetchInstallFiles(
  core: Core,
  pool: string,
  vmId: string,
  tree: InstallTree,
  r: Reverter,
  ctx: Pick<OpContext, "signal" | "progress">,
  at: number,
): Promise<void> {
  const dir = stagingDir(core.config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const volumes = installVolumes(vmId);
  for (const part of ["kernel", "initrd"] as const) {
    ctx.progress(at, `fetching ${part}`);
    const file = join(dir, `vm-${vmId}-install-${part}.part`);
    r.add(`remove staged ${file}`, () => removeStaged(file));
    const staged = await stageUrl(tree[part], file, {
      signal: ctx.signal,
      label: `install ${part}`,
      report: () => undefined,
    });
    if (staged.bytes === 0) throw new AppError(502, "invalid_install_tree", `${tree[part]} is empty`);
    if (part === "kernel" && !(await isBzImage(file))) {
      throw new AppError(
        502,
        "invalid_install_tree",
        `${tree.kernel} is not an x86 Linux kernel (no bzImage header)`,
      );
    }
    const st = await stat(file);
    await storeVolume(core, r, pool, file, volumes[part], {
      format: "raw",
      virtualSize: staged.bytes,
      allocatedSize: st.blocks * 512,
    });
  }
  await core.hv.call("pool.refresh", { pool });
}
