// POST /v1/images: checks an import request (exactly one source per file) and runs it as an operation.
import type { ImageKind } from "../../db/images.ts";
import { BadRequest } from "../../errors.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { redactUrls } from "../net/redact.ts";
import type { Operation } from "../operations.ts";
import { checkHostPath, type HostFile, stagePath } from "./import-path.ts";
import { checkUrl, stageUrl } from "./import-url.ts";
import { type Part, releaseImage, reserveImage, storeImage } from "./pipeline.ts";

export interface SourceSpec {
  url?: string;
  path?: string;
  sha256?: string;
}

export interface ImportRequest extends SourceSpec {
  name: string;
  kind: ImageKind;
  kernel?: SourceSpec;
  initrd?: SourceSpec;
}

type Checked = { label: string; source: string; sha256?: string } & (
  | { url: string; host?: undefined }
  | { host: HostFile; url?: undefined }
);

/** Host directories berth trusts for an import it makes itself, in place of `[images] import_dirs`. */
export interface ImportOptions {
  trustedDirs?: readonly string[];
}

async function checkSource(core: Core, s: SourceSpec, label: string, o: ImportOptions): Promise<Checked> {
  const sha256 = s.sha256?.toLowerCase();
  if (s.url !== undefined && s.path !== undefined)
    throw new BadRequest(`${label}: give url or path, not both`);
  if (s.url !== undefined) {
    const url = checkUrl(s.url, label, core.config.images);
    // The label reaches progress messages, errors and events: never with the URL's credentials.
    return { label: `${label} ${redactUrls(url)}`, source: url, url, sha256 };
  }
  if (s.path !== undefined) {
    const host = await checkHostPath(core, s.path, label, o.trustedDirs);
    return { label: `${label} ${s.path}`, source: s.path, host, sha256 };
  }
  throw new BadRequest(`${label}: give a url or a path`);
}

/** The files an import brings in, each with its one checked source. */
async function checkSources(
  core: Core,
  req: ImportRequest,
  o: ImportOptions,
): Promise<{ role: Part["role"]; c: Checked }[]> {
  if (req.kind === "kernel") {
    if (req.url !== undefined || req.path !== undefined || req.sha256 !== undefined) {
      throw new BadRequest(
        "a kernel image takes kernel and initrd sources (each with url or path), not url/path/sha256",
      );
    }
    if (!req.kernel) throw new BadRequest("a kernel image needs kernel: {url or path}");
    const parts: { role: Part["role"]; c: Checked }[] = [
      { role: "main", c: await checkSource(core, req.kernel, "kernel", o) },
    ];
    if (req.initrd) parts.push({ role: "initrd", c: await checkSource(core, req.initrd, "initrd", o) });
    return parts;
  }
  if (req.kernel !== undefined || req.initrd !== undefined) {
    throw new BadRequest(`kernel and initrd belong to kind "kernel", not "${req.kind}"`);
  }
  return [{ role: "main", c: await checkSource(core, req, "image", o) }];
}

/** Starts the import; answers at once with its operation (202). */
export async function importImage(
  core: Core,
  caller: Caller | null,
  req: ImportRequest,
  o: ImportOptions = {},
): Promise<Operation> {
  requireAdmin(core, caller, "import images");
  const sources = await checkSources(core, req, o);
  const source =
    sources.length === 1
      ? (sources[0]?.c.source ?? "")
      : sources.map((s) => `${s.role === "main" ? "kernel" : "initrd"}=${s.c.source}`).join(" ");
  const res = reserveImage(core, req.name, req.kind, source);
  try {
    return core.ops.start(
      "image.import",
      `image/${res.name}`,
      (ctx) => {
        const parts: Part[] = sources.map(({ role, c }) => ({
          role,
          label: c.label,
          stage: (file, report) => {
            const opts = { signal: ctx.signal, sha256: c.sha256, label: c.label, report };
            return c.url !== undefined
              ? stageUrl(c.url, file, core.config.images, opts)
              : stagePath(c.host, file, opts);
          },
        }));
        return storeImage(core, res, parts, ctx);
      },
      { lock: true },
    );
  } catch (e) {
    releaseImage(core, res);
    throw e;
  }
}
