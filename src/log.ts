// berth's one structured log: JSON lines (time, level, msg, then fields) to stderr (journald keeps it) or to [log] file.
import { closeSync, openSync, writeSync } from "node:fs";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = ORDER.info;
let level: Level = "info";
const toStderr = (line: string) => {
  process.stderr.write(line);
};

/**
 * The lines of one event-loop turn, written as one chunk at its end: a write per line cost the HTTP thread
 * about 15 µs per request (an access line and often an audit line). Lines are never reordered; an exit
 * writes what is pending synchronously, so only a SIGKILL can lose the current turn's lines.
 */
let pending: string[] = [];
let pendingTo: ((chunk: string) => void) | null = null;
let flushScheduled = false;

function flushLines(): void {
  flushScheduled = false;
  if (pending.length === 0 || !pendingTo) return;
  const chunk = pending.join("");
  const to = pendingTo;
  pending = [];
  to(chunk);
}

function batched(to: (chunk: string) => void): (line: string) => void {
  return (line) => {
    if (pendingTo !== to) flushLines(); // the destination changed (a reload): earlier lines go where they were meant
    pendingTo = to;
    pending.push(line);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushLines);
    }
  };
}

process.on("exit", () => {
  if (pending.length === 0 || !pendingTo) return;
  const chunk = pending.join("");
  pending = [];
  // process.stderr.write would not finish before the exit; a file sink writes synchronously anyway.
  if (pendingTo === stderrChunk) writeSync(2, chunk);
  else pendingTo(chunk);
});

const stderrChunk = (chunk: string) => toStderr(chunk);
const batchedStderr = batched(stderrChunk);
let sink: (line: string) => void = batchedStderr;
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

/** Writes a line another thread formatted (at a level it checked) where this thread's lines go. */
export function writeLogLine(line: string): void {
  sink(line);
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
    sink = batched((chunk) => {
      try {
        writeSync(next.fd, chunk);
      } catch (e) {
        // A full disk or a vanished mount must not fail the request that logs: the lines go to stderr.
        const note = `,"log_file_error":${JSON.stringify(String(e))}}\n`;
        toStderr(chunk.replace(/}\n/g, note));
      }
    });
  } else {
    file = null;
    sink = batchedStderr;
  }
  flushLines(); // the previous file's lines, before it is closed
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
