// `berth image ...`: list, import (URL, host path or an upload of a local file, with progress) and delete images.
import { AppError } from "../../errors.ts";
import { str } from "../args.ts";
import { act, type Command, enc, WAIT } from "../command.ts";
import { UsageError } from "../exit.ts";
import { bytes, type Column, printList, printOne } from "../output.ts";
import { Progress, Rate } from "../progress.ts";
import { isTty } from "../wait.ts";

interface Image {
  name: string;
  kind: string;
  format: string | null;
  status: string;
  virtual_size: number;
  allocated_size: number;
  source: string;
  created_at: string;
}

const COLUMNS: Column<Image>[] = [
  { head: "NAME", get: (i) => i.name },
  { head: "KIND", get: (i) => i.kind },
  { head: "FORMAT", get: (i) => i.format },
  { head: "STATUS", get: (i) => i.status },
  { head: "SIZE", get: (i) => bytes(i.virtual_size) },
  { head: "ON DISK", get: (i) => bytes(i.allocated_size) },
  { head: "SOURCE", get: (i) => i.source },
];

const KINDS = ["disk", "iso", "kernel"];

/** Streams a local file as the upload body, counting bytes for the bar (bytes, total and rate). */
function counted(file: ReturnType<typeof Bun.file>, bar: Progress): ReadableStream<Uint8Array> {
  const total = file.size;
  const rate = new Rate();
  let sent = 0;
  return file.stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        sent += chunk.byteLength;
        const speed = rate.add(sent);
        bar.update(
          total ? sent / total : null,
          `${bytes(sent)} of ${bytes(total)}${speed > 0 ? `  ${bytes(speed)}/s` : ""}`,
        );
        out.enqueue(chunk);
      },
    }),
  );
}

export const imageCommands: Command[] = [
  {
    words: ["image", "list"],
    summary: "List images (--kind disk|iso|kernel)",
    options: ["kind"],
    run: async (ctx) => {
      printList(
        ctx.format,
        await (await ctx.client()).get<Image[]>("/v1/images", { kind: str(ctx.values, "kind") }),
        COLUMNS,
      );
      return 0;
    },
  },
  {
    words: ["image", "import"],
    synopsis: "<name>",
    summary:
      "Import an image (--kind disk|iso|kernel, default disk) that berth fetches --from an http(s) URL or a host path inside [images] import_dirs, or upload a local --file; --sha256 HEX; progress with bytes and rate",
    options: ["kind", "from", "file", "sha256", ...WAIT],
    arity: [1, 1],
    run: async (ctx) => {
      const v = ctx.values;
      const name = ctx.args[0] as string;
      const kind = str(v, "kind") ?? "disk";
      if (!KINDS.includes(kind)) throw new UsageError(`--kind must be disk, iso or kernel (got ${kind})`);
      const sources = (["from", "file"] as const).filter((k) => str(v, k) !== undefined);
      if (sources.length !== 1) throw new UsageError("image import needs one of --from URL|PATH or --file");
      const sha256 = str(v, "sha256");
      const client = await ctx.client();
      const local = str(v, "file");
      let image: Image;
      if (local) {
        if (kind === "kernel")
          throw new UsageError("a kernel pair is imported with --url or --path, not uploaded");
        const file = Bun.file(local);
        if (!(await file.exists())) throw new AppError(404, "not_found", `file ${local} does not exist`);
        const bar = new Progress(`upload ${name}`, { tty: isTty() });
        try {
          image = await client.json<Image>("PUT", `/v1/images/${enc(name)}/upload`, {
            query: { kind, sha256 },
            // The length up front lets berth refuse a too-large file (413, 507) before a byte is sent.
            headers: { "content-type": "application/octet-stream", "content-length": String(file.size) },
            raw: counted(file, bar),
          });
        } catch (e) {
          bar.clear();
          throw e;
        }
        bar.update(1, `${bytes(file.size)}`);
        bar.done("uploaded");
      } else {
        const from = str(v, "from") as string;
        const source = /^https?:\/\//i.test(from) ? { url: from } : { path: from };
        const body =
          kind === "kernel"
            ? { name, kind, kernel: { ...source, sha256 } }
            : { name, kind, ...source, sha256 };
        const op = await act(ctx, "POST", "/v1/images", `import ${name}`, body);
        if (op.status !== "succeeded") return 0;
        image = op.result as Image;
      }
      printOne(ctx.format, image, COLUMNS);
      return 0;
    },
  },
  {
    words: ["image", "delete"],
    synopsis: "<name>",
    summary: "Delete an image and its volumes (409 while a VM or profile uses it)",
    arity: [1, 1],
    run: async (ctx) => {
      const img = await (await ctx.client()).json<Image>(
        "DELETE",
        `/v1/images/${enc(ctx.args[0] as string)}`,
      );
      if (ctx.format === "table") console.log(`deleted image ${img.name}`);
      else printOne(ctx.format, img, COLUMNS);
      return 0;
    },
  },
];
