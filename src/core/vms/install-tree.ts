// Install trees: finding the installer's kernel and initrd under a location URL, and fetching them into the pool.
import { mkdir, open, stat } from "node:fs/promises";
import { join } from "node:path";
import { decode } from "ini";
import type { ImagesConfig } from "../../config/schema.ts";
import { AppError, BadRequest } from "../../errors.ts";
import type { Core } from "../context.ts";
import { stageUrl } from "../images/import-url.ts";
import { removeStaged } from "../images/staging.ts";
import { storeVolume } from "../images/store.ts";
import { type AddressPolicy, addressPolicy } from "../net/addresses.ts";
import { redactUrls } from "../net/redact.ts";
import { checkLiteralHost, FetchFailed, safeFetch } from "../net/safe-fetch.ts";
import type { OpContext } from "../operations.ts";
import { stagingDir } from "../paths.ts";
import type { Reverter } from "../reverter.ts";
import { refreshPool } from "../storage-pool.ts";
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
/** Installer kernels are ~10 MiB and initrds well under 1 GiB. */
const MAX_INSTALL_FILE_BYTES = 1024 ** 3;
/** Where "HdrS" sits in an x86 bzImage: the Linux boot protocol header. */
const BZIMAGE_MAGIC_OFFSET = 0x202;
const DEBIAN_IMAGES = ["current/images", "current/legacy-images", "daily"];
const ARCH = "x86_64";
const DEBIAN_ARCH = "amd64";

export function notAnInstallTree(location: string, why: string): AppError {
  return new AppError(400, "not_an_install_tree", `${redactUrls(location)} is not an install tree: ${why}`);
}

/**
 * The location as a directory URL (credentials kept: berth fetches with them); http and https only.
 * A host that is an IP literal `images` does not allow is refused here, before anything is fetched.
 */
export function checkLocation(location: string, images?: Pick<ImagesConfig, "allow_private_networks">): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch (cause) {
    throw new BadRequest(`install location ${JSON.stringify(redactUrls(location))} is not a URL`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BadRequest(
      `install location ${redactUrls(location)}: only http and https install trees can be fetched (got ${url.protocol})`,
    );
  }
  if (images) {
    checkLiteralHost(
      url,
      addressPolicy(images.allow_private_networks),
      `install location ${redactUrls(url.href)}`,
    );
  }
  url.search = "";
  url.hash = "";
  // virt-install's examples omit the trailing slash; relative paths resolve inside the tree only with it.
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

class Unreachable extends Error {}

/** How detection reaches the tree: the caller's address policy, within the detection deadline. */
interface Reader {
  policy: AddressPolicy;
  signal: AbortSignal;
}

const isTooLarge = (e: unknown) => e instanceof AppError && e.errorCode === "too_large";

/** GET `url`: the body when the answer is 2xx, null when the server says it is not there. */
async function get(url: URL, r: Reader, maxBytes?: number): Promise<ReadableStream<Uint8Array> | null> {
  const label = `GET ${redactUrls(url.href)}`;
  let res: Awaited<ReturnType<typeof safeFetch>>;
  try {
    res = await safeFetch(url, { signal: r.signal, policy: r.policy, label, maxBytes });
  } catch (cause) {
    // A refused address stays a refusal; everything else is one plain failure (no port scanning).
    if (cause instanceof FetchFailed || r.signal.aborted) {
      throw new Unreachable(`${label}: fetch failed`, { cause });
    }
    throw cause;
  }
  if (res.status >= 200 && res.status <= 299) return res.body;
  await res.body.cancel();
  return null;
}

async function exists(url: URL, r: Reader): Promise<boolean> {
  const body = await get(url, r);
  await body?.cancel();
  return body !== null;
}

/** The body of a small text file, or null when absent or too large to be one. */
async function text(url: URL, r: Reader): Promise<string | null> {
  let body: ReadableStream<Uint8Array> | null;
  try {
    body = await get(url, r, MAX_TEXT_BYTES);
  } catch (e) {
    if (isTooLarge(e)) return null;
    throw e;
  }
  if (!body) return null;
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk);
  } catch (cause) {
    if (isTooLarge(cause)) return null;
    throw new Unreachable(`reading ${redactUrls(url.href)}: fetch failed`, { cause });
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
async function debianInstaller(base: URL, dir: URL, r: Reader): Promise<InstallTree | null> {
  const arch = /\/installer-([A-Za-z0-9]+)\/$/.exec(dir.pathname)?.[1];
  if (arch !== undefined && arch !== DEBIAN_ARCH) {
    throw notAnInstallTree(base.href, `it is the ${arch} installer; berth installs ${DEBIAN_ARCH} (${ARCH})`);
  }
  for (const images of DEBIAN_IMAGES) {
    const manifest = await text(new URL(`${images}/MANIFEST`, dir), r);
    if (manifest === null) continue;
    const distro = /ubuntu/i.test(manifest) ? "ubuntu" : /debian/i.test(manifest) ? "debian" : null;
    if (distro === null) continue;
    const netboot = new URL(`${images}/netboot/${distro}-installer/${DEBIAN_ARCH}/`, dir);
    const kernel = new URL("linux", netboot);
    const initrd = new URL("initrd.gz", netboot);
    if (!(await exists(kernel, r)) || !(await exists(initrd, r))) {
      throw notAnInstallTree(
        base.href,
        `${images}/MANIFEST is there but ${redactUrls(netboot.href)} has no linux and initrd.gz`,
      );
    }
    return { location: base.href, layout: "debian-installer", kernel: kernel.href, initrd: initrd.href };
  }
  return null;
}

async function detect(base: URL, r: Reader): Promise<InstallTree | null> {
  // Anaconda reads both names; CDNs that hide dotfiles serve only the second.
  for (const file of [".treeinfo", "treeinfo"]) {
    const body = await text(new URL(file, base), r);
    if (body !== null) return fromTreeinfo(base, body, file);
  }
  for (const dir of [base, new URL(`main/installer-${DEBIAN_ARCH}/`, base)]) {
    const tree = await debianInstaller(base, dir, r);
    if (tree) return tree;
  }
  const kernel = new URL("linux", base);
  const initrd = new URL("initrd.gz", base);
  if ((await exists(kernel, r)) && (await exists(initrd, r))) {
    return { location: base.href, layout: "netboot", kernel: kernel.href, initrd: initrd.href };
  }
  return null;
}

/**
 * Finds the installer kernel and initrd of the tree at `location`, or throws 400 `not_an_install_tree`
 * (also when nothing answers there), or 400 `address_not_allowed` when it leads to an address
 * `images` does not allow. Reads only small files; bounded by DETECT_TIMEOUT_MS.
 */
export async function findInstallTree(
  location: string,
  images: Pick<ImagesConfig, "allow_private_networks">,
): Promise<InstallTree> {
  const base = checkLocation(location, images);
  const r = {
    policy: addressPolicy(images.allow_private_networks),
    signal: AbortSignal.timeout(DETECT_TIMEOUT_MS),
  };
  try {
    const tree = await detect(base, r);
    if (tree) return tree;
  } catch (e) {
    if (e instanceof Unreachable)
      throw new AppError(
        400,
        "not_an_install_tree",
        `${redactUrls(base.href)} could not be read: ${e.message}`,
        { cause: e },
      );
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
    const staged = await stageUrl(tree[part], file, core.config.images, {
      signal: ctx.signal,
      label: `install ${part} ${redactUrls(tree[part])}`,
      report: () => undefined,
      maxBytes: MAX_INSTALL_FILE_BYTES,
    });
    if (staged.bytes === 0) {
      throw new AppError(502, "invalid_install_tree", `${redactUrls(tree[part])} is empty`);
    }
    if (part === "kernel" && !(await isBzImage(file))) {
      throw new AppError(
        502,
        "invalid_install_tree",
        `${redactUrls(tree.kernel)} is not an x86 Linux kernel (no bzImage header)`,
      );
    }
    const st = await stat(file);
    await storeVolume(core, r, pool, file, volumes[part], {
      format: "raw",
      virtualSize: staged.bytes,
      allocatedSize: st.blocks * 512,
    });
  }
  await refreshPool(core, pool);
}
