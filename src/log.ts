// berth's one structured log: JSON lines (time, level, msg, then fields) to stderr (journald or the log file keeps it).
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold = ORDER.info;
let level: Level = "info";
let sink: (line: string) => void = (line) => process.stderr.write(line);

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
