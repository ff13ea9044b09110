// The one import path every source shares: reserve the name, stage, detect, store in the pool, mark ready.
import {
  deleteImage,
  type ImageKind,
  imageById,
  imageByName,
  insertImage,
  markImageReady,
} from "../../db/images.ts";
import { Conflict } from "../../errors.ts";
import type { Core } from "../context.ts";
import { checkName, newId } from "../names.ts";
import { Reverter } from "../reverter.ts";
import { ensureStoragePool, refreshPool } from "../storage-pool.ts";
import { now } from "../time.ts";
import { detectImage } from "./detect.ts";
import { type ImageView, presentImage } from "./records.ts";
import { type ProgressReport, removeStaged, type Staged, stagingFile } from "./staging.ts";
import { storeVolume, volumeName } from "./store.ts";

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

export interface Reserved {
  id: string;
  name: string;
  kind: ImageKind;
}

/** One file of an image: the image itself, or the initrd of a kernel pair. */
export interface Part {
  role: "main" | "initrd";
  label: string;
  /** Writes the part's bytes to `file`, reporting its progress. */
  stage: (file: string, report: ProgressReport) => Promise<Staged>;
}

/**
 * Takes `name` with a row in status "importing" (which keeps the name from a second import).
 * Synchronous, so the check and the insert cannot interleave with another request.
 */
export function reserveImage(core: Core, name: string, kind: ImageKind, source: string): Reserved {
  checkName("image", name);
  if (imageByName(core.db, name)) throw new Conflict(`image ${name} already exists`);
  const id = newId();
  insertImage(core.db, { id, name, kind, source, created_at: now() });
  return { id, name, kind };
}

export function releaseImage(core: Core, res: Reserved): void {
  deleteImage(core.db, res.id);
}

/**
 * Stages each part, checks it, stores it as a pool volume and marks the image ready. Any failure
 * or cancellation removes the staged files, the volumes and the row: nothing is left behind, and
 * the name can be used again.
 */
export function storeImage(
  core: Core,
  res: Reserved,
  parts: Part[],
  ctx: { signal: AbortSignal; progress?: (fraction: number, message?: string) => void },
): Promise<ImageView> {
  const r = new Reverter();
  r.add(`forget image ${res.name}`, () => releaseImage(core, res));
  return r.run(async () => {
    const pool = await ensureStoragePool(core);
    const stored: { volume: string; format: string; size: number; allocated: number; sha256: string }[] = [];
    for (const [i, part] of parts.entries()) {
      ctx.signal.throwIfAborted();
      const file = await stagingFile(core, res.id, part.role === "initrd" ? "-initrd" : "");
      r.add(`remove staged ${file}`, () => removeStaged(file));
      const staged = await part.stage(file, (done, total) => {
        const f = total ? done / total : 0;
        const of = total ? ` of ${mib(total)}` : "";
        ctx.progress?.((i + f) / parts.length, `${part.label}: ${mib(done)}${of} MiB`);
      });
      ctx.signal.throwIfAborted();
      const d = await detectImage(staged.file, res.kind, part.label);
      const volume = volumeName(res.id, part.role, d, res.kind);
      ctx.signal.throwIfAborted();
      await storeVolume(core, r, pool, staged.file, volume, d);
      stored.push({
        volume,
        format: d.format,
        size: d.virtualSize,
        allocated: d.allocatedSize,
        sha256: staged.sha256,
      });
    }
    await refreshPool(core, pool);
    ctx.signal.throwIfAborted();
    const [main, initrd] = stored;
    if (!main) throw new Error("an image import had no parts");
    markImageReady(core.db, res.id, {
      format: main.format,
      volume: main.volume,
      initrd_volume: initrd?.volume ?? null,
      sha256: main.sha256,
      virtual_size: main.size,
      allocated_size: main.allocated + (initrd?.allocated ?? 0),
    });
    const row = imageById(core.db, res.id);
    if (!row) throw new Error(`image ${res.name} vanished while it was imported`);
    core.events.publish("image.created", `image/${res.name}`, { kind: res.kind, format: main.format });
    return presentImage(core, row);
  });
}
