// /v1/images: import (URL or host path, as an operation), upload, list, show, rename and delete images.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  deleteImage,
  getImage,
  importImage,
  listImages,
  renameImage,
  uploadImage,
} from "../../core/images/index.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";

const tags = ["images"];
const strict = { additionalProperties: false } as const;
const Kind = t.Union([t.Literal("disk"), t.Literal("iso"), t.Literal("kernel")]);
const Sha256 = t.String({ pattern: "^[0-9a-fA-F]{64}$", description: "hex SHA-256 the bytes must have" });
const Url = t.String({ minLength: 1, maxLength: 4096, description: "http or https URL, streamed to disk" });
const HostPath = t.String({
  minLength: 1,
  maxLength: 4096,
  description: "absolute path of a regular file on the host; copied, never moved",
});
const Source = t.Object(
  { url: t.Optional(Url), path: t.Optional(HostPath), sha256: t.Optional(Sha256) },
  strict,
);
const ByName = t.Object({ name: t.String({ minLength: 1, maxLength: 63 }) });

export const ImageSchema = t.Object({
  id: t.String(),
  name: t.String(),
  kind: Kind,
  format: t.Nullable(t.Union([t.Literal("qcow2"), t.Literal("raw"), t.Literal("iso")])),
  volume: t.Nullable(t.String()),
  path: t.Nullable(t.String()),
  initrd_volume: t.Nullable(t.String()),
  initrd_path: t.Nullable(t.String()),
  virtual_size: t.Integer({ description: "bytes the guest sees" }),
  allocated_size: t.Integer({ description: "bytes used on the host's disk" }),
  source: t.String({ description: 'the URL or host path imported from, or "upload"' }),
  sha256: t.Nullable(
    t.String({ description: "SHA-256 of the imported bytes (the kernel's for a kernel pair)" }),
  ),
  status: t.Union([t.Literal("importing"), t.Literal("ready"), t.Literal("failed")]),
  created_at: t.String(),
});

const ImportSchema = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 63 }),
    kind: Kind,
    url: t.Optional(Url),
    path: t.Optional(HostPath),
    sha256: t.Optional(Sha256),
    kernel: t.Optional(Source),
    initrd: t.Optional(Source),
  },
  strict,
);

export function imageRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/images" })
    .get("", ({ request, query }) => listImages(core, callerOf({ request }), query), {
      query: t.Object({ kind: t.Optional(Kind) }, strict),
      response: t.Array(ImageSchema),
      detail: { summary: "List images, by name (filter: kind)", tags },
    })
    .post(
      "",
      async ({ request, body, query, set }) =>
        accepted(core, await importImage(core, callerOf({ request }), body), set, query.wait),
      {
        body: ImportSchema,
        query: WaitQuery,
        response: { 200: OperationSchema, 202: OperationSchema },
        detail: {
          summary:
            "Import an image from a URL or a host path (202 + operation; the image shows as `importing`)",
          description:
            "Exactly one source: `url` or `path` for kinds disk and iso; `kernel` (and optionally `initrd`), each with `url` or `path`, for kind kernel. Disks must be standalone qcow2 or raw; an iso must carry the ISO 9660 signature. A failed or cancelled import (DELETE /v1/operations/{id}) removes the image and everything staged, so the name can be used again. The operation's result is the image.",
          tags,
        },
      },
    )
    .put(
      "/:name/upload",
      async ({ params, query, request, set }) => {
        const declared = request.headers.get("content-length");
        const length = declared === null ? undefined : Number(declared);
        const image = await uploadImage(
          core,
          callerOf({ request }),
          { name: params.name, ...query, length },
          request.body,
          request.signal,
        );
        // Success is 201 Created; errors still go through the one mapping.
        set.status = 201;
        set.headers.location = `/v1/images/${image.name}`;
        return image;
      },
      {
        parse: "none",
        params: ByName,
        query: t.Object(
          { kind: t.Union([t.Literal("disk"), t.Literal("iso")]), sha256: t.Optional(Sha256) },
          strict,
        ),
        response: { 201: ImageSchema },
        detail: {
          summary: "Upload an image as the raw request body (application/octet-stream); 201 with the image",
          description:
            "The body is streamed to disk, never held in memory, and stored before the answer: there is no operation. A client that disconnects, a checksum mismatch or an invalid image leaves nothing behind. Kernel pairs are imported with POST /v1/images. A Content-Length past `[limits] max_upload_bytes` is 413 `payload_too_large`, and one that does not fit the storage pool's free space 507 `insufficient_storage`, both before a byte is read; a chunked body is cut off with the same answers the moment it passes either.",
          requestBody: {
            required: true,
            content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
          },
          tags,
        },
      },
    )
    .get("/:name", ({ request, params }) => getImage(core, callerOf({ request }), params.name), {
      params: ByName,
      response: ImageSchema,
      detail: { summary: "Show an image", tags },
    })
    .patch(
      "/:name",
      ({ request, params, body }) => renameImage(core, callerOf({ request }), params.name, body.name),
      {
        params: ByName,
        body: t.Object({ name: t.String({ minLength: 1, maxLength: 63 }) }, strict),
        response: ImageSchema,
        detail: {
          summary: "Rename an image (409 if the name is taken, or while a VM or profile uses it)",
          tags,
        },
      },
    )
    .delete("/:name", ({ request, params }) => deleteImage(core, callerOf({ request }), params.name), {
      params: ByName,
      response: ImageSchema,
      detail: {
        summary:
          "Delete an image and its volumes; answers the image as it was (409 while importing or in use)",
        tags,
      },
    });
}
