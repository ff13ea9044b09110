// Kahu's snapshots of an instance: take one (200 with its URI in Location), list, show, delete.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { kahuScope } from "../../core/fronts/kahu.ts";
import {
  deleteKahuSnapshot,
  listKahuSnapshots,
  showKahuSnapshot,
  takeSnapshot,
} from "../../core/fronts/kahu-snapshots.ts";
import { callerOf } from "../auth.ts";
import { formBody, MessageBody, SnapshotBody, SnapshotsBody } from "./bodies.ts";
import { kahuForm } from "./form.ts";
import { InstanceParams } from "./instances.ts";

const tags = ["kahu"];
const SnapshotParams = t.Object({ ...InstanceParams.properties, snapshot: t.String({ maxLength: 253 }) });

export function kahuSnapshotRoutes(core: Core, api: string, scopePath: string) {
  const scopeOf = (params: { tenant?: string }) => kahuScope(api, params.tenant);
  const snapshots = `${scopePath}/compute/instance/:id/snapshot`;
  return new Elysia()
    .get(
      snapshots,
      async (ctx) => await listKahuSnapshots(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id),
      {
        params: InstanceParams,
        detail: { summary: "The instance's snapshots by name", responses: { 200: SnapshotsBody }, tags },
      },
    )
    .post(
      snapshots,
      async (ctx) => {
        await using form = await kahuForm(core, ctx.request, { required: ["name"], optional: [] });
        const name = form.get("name") as string;
        const taken = await takeSnapshot(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, name);
        ctx.set.headers.location = taken.location;
        return { message: "snapshot created" };
      },
      {
        params: InstanceParams,
        parse: "none",
        detail: {
          summary: "Take a snapshot (form: name); 200 (as Kahu) with its URI in Location",
          requestBody: formBody({ name: t.String() }),
          responses: { 200: MessageBody("snapshot created") },
          tags,
        },
      },
    )
    .get(
      `${snapshots}/:snapshot`,
      async (ctx) =>
        await showKahuSnapshot(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, ctx.params.snapshot),
      {
        params: SnapshotParams,
        detail: {
          summary: "The instance as the snapshot holds it: network, profile, size, storage, timestamp",
          responses: { 200: SnapshotBody },
          tags,
        },
      },
    )
    .delete(
      `${snapshots}/:snapshot`,
      async (ctx) => {
        await deleteKahuSnapshot(
          core,
          callerOf(ctx),
          scopeOf(ctx.params),
          ctx.params.id,
          ctx.params.snapshot,
        );
        return { message: "snapshot deleted" };
      },
      {
        params: SnapshotParams,
        detail: { summary: "Delete a snapshot", responses: { 200: MessageBody("snapshot deleted") }, tags },
      },
    );
}
