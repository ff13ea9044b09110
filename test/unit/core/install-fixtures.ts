// Install-tree fixtures: a loopback HTTP server serving a tree from a path → content map, and a fake kernel.

/** Where an x86 bzImage carries "HdrS" (the Linux boot protocol header). */
const HDRS_OFFSET = 0x202;

/** A small file that passes berth's bzImage check (it is no real kernel). */
export function fakeKernel(size = 8192): Uint8Array<ArrayBuffer> {
  const k = new Uint8Array(size);
  k.set(new TextEncoder().encode("HdrS"), HDRS_OFFSET);
  return k;
}

/** Path → body; a Blob may be a file on disk (Bun.file). */
export type TreeFiles = Record<string, string | Uint8Array | Blob>;

/** The Debian netboot layout under `root` (…/dists/<suite>/), as deb.debian.org serves it. */
export function debianTree(root: string, kernel: Uint8Array | Blob, initrd: Uint8Array | Blob): TreeFiles {
  const di = `${root}main/installer-amd64/current/images/`;
  return {
    [`${di}MANIFEST`]: "netboot/debian-installer/amd64/linux\t-- Debian netboot kernel\n",
    [`${di}netboot/debian-installer/amd64/linux`]: kernel,
    [`${di}netboot/debian-installer/amd64/initrd.gz`]: initrd,
  };
}

/** Serves `files` by exact path, 404 otherwise (or what `fallback` answers); records every path asked. */
export function serveTree(files: TreeFiles, opts: { fallback?: (path: string) => Response | null } = {}) {
  const hits: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      hits.push(path);
      const body = files[path];
      if (body !== undefined) return new Response(body);
      return opts.fallback?.(path) ?? new Response("no such file", { status: 404 });
    },
  });
  return {
    url: (p: string) => `http://127.0.0.1:${server.port}${p}`,
    hits,
    stop: () => server.stop(true),
  };
}
