// sysadm's fetchiso over core's image import (its URL checks and allowlists), reported as sysadm dispatcher events; install is not served.
import { randomUUID } from "node:crypto";
import { BadRequest } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { importImage } from "../images/index.ts";
import { operationFinished } from "../operation-outcome.ts";
import { installFromIso } from "../vms/install-iso.ts";

/** The event type a sysadm socket forwards as a `dispatcher` event (its args are the event's data). */
export const DISPATCHER_EVENT = "sysadm.dispatcher";

/** An ISO as iohyve lists it: berth's image name with the .iso its files had. */
export const shownIso = (image: string) => `${image}.iso`;

/** The berth image an iohyve ISO name stands for: the name without its .iso (berth's names have no dots). */
export const isoImage = (shown: string) => shown.replace(/\.iso$/i, "");

/**
 * The image a fetched URL becomes: its file name (as `iohyve fetch` named the file) in berth's
 * alphabet, lower case with '-' for the rest, without .iso; listisos shows it back with .iso.
 */
function isoName(url: URL): string {
  const file = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  const name = isoImage(file)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  if (name === "") throw new BadRequest(`the URL ${url.origin}${url.pathname} names no file`);
  return name;
}

/**
 * Imports the ISO at `url` (http/https through core's URL checks; file:// as a host path within
 * [images] import_dirs) and reports it as sysadm's dispatcher events until it is finished.
 */
export async function fetchIso(core: Core, caller: Caller | null, url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadRequest(`${url} is not a URL`);
  }
  const name = isoName(parsed);
  const source = parsed.protocol === "file:" ? { path: decodeURIComponent(parsed.pathname) } : { url };
  const op = await importImage(core, caller, { name, kind: "iso", ...source });
  const queueid = `sysadm_iohyve_fetch::{${randomUUID()}}`;
  const command = `iohyve fetch ${url}`;
  const started = Date.now();
  const dispatch = (state: "running" | "finished", percent: number, bytes: number | null, code?: number) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    core.events.publish(DISPATCHER_EVENT, `image/${name}`, {
      event_system: "sysadm/iohyve",
      state,
      filename: shownIso(name),
      percent_done: `${Math.round(percent)}%`,
      download_rate: bytes === null ? "" : `${Math.round(bytes / 1024 / seconds)} kBps`,
      process_details: {
        cmd_list: [command],
        process_id: queueid,
        state,
        time_started: new Date(started).toISOString(),
        ...(state === "finished"
          ? { [`return_codes/${command}`]: String(code ?? 0), time_finished: new Date().toISOString() }
          : { current_cmd: command }),
      },
    });
  };
  dispatch("running", 0, null);
  const off = core.events.subscribe((e) => {
    if (e.target !== `operation/${op.id}`) return;
    if (e.type === "operation.progress")
      dispatch("running", Number(e.data.progress ?? 0) * 100, bytesOf(e.data.message));
    else if (e.type === "operation.succeeded") dispatch("finished", 100, null, 0);
    else if (e.type === "operation.failed" || e.type === "operation.cancelled")
      dispatch("finished", 0, null, 1);
    else return;
    if (e.type !== "operation.progress") off();
  });
  // It may have ended before the listener was there.
  const now = core.ops.get(op.id);
  if (now.status !== "running") {
    off();
    dispatch("finished", now.status === "succeeded" ? 100 : 0, null, now.status === "succeeded" ? 0 : 1);
  }
  return { command, comment: "Task Queued", queueid };
}

/** Bytes done so far, from an import's progress message ("…: 12 of 40 MiB"). */
function bytesOf(message: unknown): number | null {
  const m = typeof message === "string" ? /: ([0-9.]+)(?: of [0-9.]+)? MiB$/.exec(message) : null;
  return m ? Number(m[1]) * 1024 * 1024 : null;
}

/** install: boots the stopped guest from the ISO (its disks attached), as `iohyve install` did; its end is not waited for. */
export async function installIso(
  core: Core,
  caller: Caller | null,
  name: string,
  iso: string,
): Promise<void> {
  await operationFinished(core.ops, await installFromIso(core, caller, name, isoImage(iso)));
}
