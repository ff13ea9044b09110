// PVC's root answers: GET /api/v1 (209, its version) and GET /api/v1/storage.
import { Elysia } from "elysia";

import { StorageRootBody, VersionBody } from "./bodies.ts";

const tags = ["pvc"];

/** Under `<base>/api/v1`. */
export function pvcRootRoutes() {
  return new Elysia()
    .get("", ({ status }) => status(209, { message: "PVC API version 1" }), {
      detail: { summary: "PVC's version (209, as PVC answered it)", responses: { 209: VersionBody }, tags },
    })
    .get("/storage", () => ({ message: "Manage the storage of the PVC cluster." }), {
      detail: { summary: "The storage root", responses: { 200: StorageRootBody }, tags },
    });
}
