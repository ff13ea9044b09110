// Waits for an operation: its end from the bounded wait route, its progress from the event stream.
import { AppError } from "../errors.ts";
import type { Client, ServerEvent } from "./client.ts";
import { Progress, Rate } from "./progress.ts";

export interface Operation {
  id: string;
  kind: string;
  target: string;
  status: "running" | "succeeded" | "failed" | "cancelled";
  progress: number;
  message: string;
  error: { code: string; message: string; status: number } | null;
  result: unknown;
}

export const isTty = () => process.stdout.isTTY === true;

/** "debian: 12.0 of 300.0 MiB" (the server's import message): bytes done, for a rate. */
function mibDone(message: string): number | null {
  const m = /([\d.]+)(?: of [\d.]+)? MiB/.exec(message);
  return m?.[1] ? Number(m[1]) * 2 ** 20 : null;
}

/**
 * Follows `op` until it ends and returns it finished; a failed or cancelled one throws its error
 * (status and message as the API gave them).
 */
export async function waitOperation(client: Client, op: Operation, label: string): Promise<Operation> {
  const bar = new Progress(label, { tty: isTty() });
  const rate = new Rate();
  const stop = new AbortController();
  const onEvent = (e: ServerEvent) => {
    if (e.type !== "operation.progress") return;
    const message = String(e.data.message ?? "");
    const done = mibDone(message);
    const speed = done === null ? 0 : rate.add(done);
    bar.update(
      Number(e.data.progress ?? 0),
      speed > 0 ? `${message}  ${(speed / 2 ** 20).toFixed(1)} MiB/s` : message,
    );
  };
  // Progress is a nicety: a stream refused (limits, auth) leaves the wait to the wait route.
  const follow = client.events({ target: `operation/${op.id}` }, onEvent, stop.signal).catch(() => undefined);
  bar.update(op.progress, op.message);
  let cur = op;
  try {
    while (cur.status === "running") {
      cur = await client.get<Operation>(`/v1/operations/${op.id}/wait`, { timeout: 30 });
    }
  } catch (e) {
    bar.clear();
    throw e;
  } finally {
    stop.abort();
    await follow;
  }
  if (cur.status !== "succeeded") {
    bar.clear();
    const err = cur.error ?? { status: 409, code: cur.status, message: `operation ${cur.id} ${cur.status}` };
    throw new AppError(err.status, err.code, err.message);
  }
  bar.update(1, cur.message);
  bar.done("done");
  return cur;
}
