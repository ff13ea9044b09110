// Images: what the rest of berth uses (routes, VM code, start-up).
export { deleteImage } from "./delete.ts";
export { type ImportOptions, type ImportRequest, importImage, type SourceSpec } from "./import.ts";
export { type UploadRequest, uploadImage } from "./import-upload.ts";
export {
  findImage,
  getImage,
  type ImageFormat,
  type ImageRecord,
  type ImageView,
  imageInUse,
  listImages,
} from "./records.ts";
export { recoverImports } from "./recover.ts";
export { renameImage } from "./rename.ts";
