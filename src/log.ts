// berth's one structured log: JSON lines (time, level, msg, then fields) to stderr (journald keeps it) or to [log] file.
import { closeSync, openSync, writeSync } from "node:fs";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = ORDER.info;
let level: Level = "info";
const toStderr = (line: string) => {
  process.stderr.write(line);
};
let sink: (line: string) => void = toStderr;
/** The open log file (appended to), or null while lines go to stderr. */
let file: { path: string; fd: number } | null = null;

export function setLogLevel(l: Level): void {
  threshold = ORDER[l];
  level = l;
}

export function logLevel(): Level {
  return level;
}

/** Where lines go (tests capture them); returns a function that restores the previous sink. */
export function setLogSink(fn: (line: string) => void): () => void {
  const prev = sink;
  sink = fn;
  return () => {
    sink = prev;
  };
}

/** Opens `path` for appending (0640, created when missing); throws when it cannot be opened. */
export function openLogFile(path: string): number {
  return openSync(path, "a", 0o640);
}

/**
 * Sends lines to the file `path` ("" for stderr), reopened even when it is the same path: after
 * logrotate renamed it, SIGHUP lands new lines in a new file. `fd` is one opened by openLogFile
 * beforehand (a reload opens it before it changes anything); the previous file is closed.
 */
export function setLogFile(path: string, fd: number = path ? openLogFile(path) : -1): void {
  const prev = file;
  if (path) {
    const next = { path, fd };
    file = next;
    sink = (line) => {
      try {
        writeSync(next.fd, line);
      } catch (e) {
        // A full disk or a vanished mount must not fail the request that logs: the line goes to stderr.
        toStderr(line.replace(/}\n$/, `,"log_file_error":${JSON.stringify(String(e))}}\n`));
      }
    };
  } else {
    file = null;
    sink = toStderr;
  }
  if (prev) closeSync(prev.fd);
}

/** The log file lines are appended to, or "" for stderr. */
export function logFile(): string {
  return file?.path ?? "";
}

function write(l: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[l] < threshold) return;
  const { time: _t, level: _l, msg: _m, ...rest } = fields ?? {};
  // The fixed keys lead each line, and a field never overwrites them.
  sink(`${JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...rest })}\n`);
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => write("debug", m, f),
  info: (m: string, f?: Record<string, unknown>) => write("info", m, f),
  warn: (m: string, f?: Record<string, unknown>) => write("warn", m, f),
  error: (m: string, f?: Record<string, unknown>) => write("error", m, f),
};
