// PVC's storage volumes and their snapshots under /storage/ceph/volume: lists (pool, volume, limit), one, add (size), remove.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { addPvcSnapshot, listPvcSnapshots, removePvcSnapshot } from "../../core/fronts/pvc-snapshots.ts";
import { addPvcVolume, listPvcVolumes, removePvcVolume } from "../../core/fronts/pvc-volumes.ts";
import { BadRequest } from "../../errors.ts";
import { callerOf } from "../auth.ts";
import {
  MessageBody,
  queryValues as query,
  SnapshotsBody,
  VolumesBody,
  pvcValues as valuesBody,
} from "./bodies.ts";
import { pvcCephRoutes } from "./ceph.ts";
import { pvcValues } from "./values.ts";

const tags = ["pvc"];
const Name = t.String({ maxLength: 253 });
const VolumeParams = t.Object({ pool: Name, volume: Name });
const SnapshotParams = t.Object({ pool: Name, volume: Name, snapshot: Name });

/** PVC answered a missing size with 510 and these words (not its 520 for other mandatory values). */
const NO_SIZE = "A volume size in bytes (or with an M/G/T suffix) must be specified.";

/** PVC's whole /storage/ceph tree (volumes, snapshots, the Ceph cluster's endpoints), under `<base>/api/v1`. */
export function pvcStorageRoutes(core: Core) {
  return new Elysia().use(pvcVolumeRoutes(core)).use(pvcCephRoutes(core));
}

function pvcVolumeRoutes(core: Core) {
  const volume = "/storage/ceph/volume";
  const snapshot = `${volume}/snapshot`;
  return new Elysia()
    .get(
      volume,
      async (ctx) => {
        await using v = await pvcValues(core, ctx.request);
        return await listPvcVolumes(core, callerOf(ctx), { pool: v.get("pool"), limit: v.get("limit") });
      },
      {
        parse: "none",
        detail: {
          summary: "Volumes of berth's pool made through PVC (values: pool, limit)",
          parameters: query(["pool", "limit"]),
          responses: { 200: VolumesBody },
          tags,
        },
      },
    )
    .get(
      `${volume}/:pool/:volume`,
      async (ctx) =>
        await listPvcVolumes(core, callerOf(ctx), { pool: ctx.params.pool, exact: ctx.params.volume }),
      {
        params: VolumeParams,
        detail: { summary: "One volume (an array of at most one)", responses: { 200: VolumesBody }, tags },
      },
    )
    .post(
      `${volume}/:pool/:volume/add`,
      async (ctx) => {
        await using v = await pvcValues(core, ctx.request);
        const size = v.get("size");
        if (size === undefined || size === "") throw new BadRequest(NO_SIZE);
        const message = await addPvcVolume(core, callerOf(ctx), ctx.params.pool, ctx.params.volume, size);
        return { message };
      },
      {
        params: VolumeParams,
        parse: "none",
        detail: {
          summary: "Add a blank qcow2 volume (value: size, bytes or 4096M, 2G, …)",
          requestBody: valuesBody({ size: t.String({ description: "bytes, or with an M/G/T suffix" }) }),
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      `${volume}/:pool/:volume/remove`,
      async (ctx) => ({
        message: await removePvcVolume(core, callerOf(ctx), ctx.params.pool, ctx.params.volume),
      }),
      {
        params: VolumeParams,
        parse: "none",
        detail: { summary: "Remove a volume", responses: { 200: MessageBody }, tags },
      },
    )
    .get(
      snapshot,
      async (ctx) => {
        await using v = await pvcValues(core, ctx.request);
        return await listPvcSnapshots(core, callerOf(ctx), {
          pool: v.get("pool"),
          volume: v.get("volume"),
          limit: v.get("limit"),
        });
      },
      {
        parse: "none",
        detail: {
          summary: "Snapshots of volumes (values: pool, volume, limit)",
          parameters: query(["pool", "volume", "limit"]),
          responses: { 200: SnapshotsBody },
          tags,
        },
      },
    )
    .get(
      `${snapshot}/:pool/:volume/:snapshot`,
      async (ctx) =>
        await listPvcSnapshots(core, callerOf(ctx), {
          pool: ctx.params.pool,
          volume: ctx.params.volume,
          exact: ctx.params.snapshot,
        }),
      {
        params: SnapshotParams,
        detail: {
          summary: "One snapshot (an array of at most one)",
          responses: { 200: SnapshotsBody },
          tags,
        },
      },
    )
    .post(
      `${snapshot}/:pool/:volume/:snapshot/add`,
      async (ctx) => ({
        message: await addPvcSnapshot(
          core,
          callerOf(ctx),
          ctx.params.pool,
          ctx.params.volume,
          ctx.params.snapshot,
        ),
      }),
      {
        params: SnapshotParams,
        parse: "none",
        detail: {
          summary: "Take a qcow2 internal snapshot of a volume",
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      `${snapshot}/:pool/:volume/:snapshot/remove`,
      async (ctx) => ({
        message: await removePvcSnapshot(
          core,
          callerOf(ctx),
          ctx.params.pool,
          ctx.params.volume,
          ctx.params.snapshot,
        ),
      }),
      {
        params: SnapshotParams,
        parse: "none",
        detail: { summary: "Delete a snapshot", responses: { 200: MessageBody }, tags },
      },
    );
}
