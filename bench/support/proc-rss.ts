// A process's resident memory from /proc/<pid>/status, split the way the kernel counts it (MiB).
import { readFileSync, readlinkSync } from "node:fs";

export interface RssParts {
  /** VmRSS: all resident pages. */
  total: number;
  /** RssAnon: heaps (JS, malloc, SQLite caches, libvirt's test driver when in-process). */
  anon: number;
  /** RssFile: mapped files (the executable and shared libraries). */
  file: number;
  /** RssShmem: shared memory. */
  shmem: number;
  /** Of `file`: pages of the executable itself (the compiled binary, or bun). */
  exe: number;
  threads: number;
}

/** Resident pages of the mappings of the process's own executable, from /proc/<pid>/smaps (kB). */
function exeRssKb(pid: number): number {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  let kb = 0;
  let mine = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) mine = line.endsWith(` ${exe}`);
    else if (mine && line.startsWith("Rss:")) kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return kb;
}

export function rssParts(pid: number): RssParts {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
  return {
    total: kb("VmRSS") / 1024,
    anon: kb("RssAnon") / 1024,
    file: kb("RssFile") / 1024,
    shmem: kb("RssShmem") / 1024,
    exe: exeRssKb(pid) / 1024,
    threads: kb("Threads"),
  };
}
