// Kahu on a fleet: a create whose `hypervisor` is another host goes there, and so does a request for `<id>@<host>`.
import { type ListenerPlan, pathUnderFront } from "../../config/fronts.ts";
import type { Caller } from "../../core/auth/caller.ts";
import type { Core } from "../../core/context.ts";
import { HostUnreachable } from "../../core/fleet/errors.ts";
import type { Fleet } from "../../core/fleet/fleet.ts";
import { forwardTo } from "../../core/fleet/forward.ts";
import type { HostRecord } from "../../core/fleet/members.ts";
import { liveHosts } from "../../core/fleet/members.ts";
import { QUALIFIED_INSTANCE } from "../../core/fronts/kahu.ts";
import { kahuPlacement } from "../../core/fronts/kahu-placement.ts";
import { bodyOf } from "../fleet-arrival.ts";
import { readRequestValues } from "../request-values.ts";

const CREATE = /^\/v0(?:\/tenant\/[^/]+)?\/compute\/instance\/?$/;
const INSTANCE = /^\/v0(?:\/tenant\/[^/]+)?\/compute\/instance\/([^/]+)(?:\/.*)?$/;

/** `path` without the Kahu base it is under on this listener, or null when it is not under one. */
function kahuPath(listener: ListenerPlan, path: string): string | null {
  return pathUnderFront(listener, "kahu", "/v0/", path);
}

/** The fleet host a request's `<id>@<host>` instance names, when it is not this one (undefined: answered here). */
async function instanceHost(fleet: Fleet, path: string): Promise<HostRecord | undefined> {
  const segment = INSTANCE.exec(path)?.[1];
  if (segment === undefined) return;
  const id = segment.replace(/%40/gi, "@"); // a client may escape the "@"
  const host = QUALIFIED_INSTANCE.exec(id)?.[2];
  if (host === undefined || host === fleet.name) return;
  const to = (await liveHosts(fleet)).get(host);
  if (!to) throw new HostUnreachable(`instance ${id}: host ${host} is not a live member of this fleet`);
  return to;
}

/** A forwarded answer's relative Location made absolute on `to`, where what it names lives. */
function located(answer: Response, to: HostRecord): Response {
  const location = answer.headers.get("location");
  if (location?.startsWith("/")) answer.headers.set("location", new URL(location, to.api).href);
  return answer;
}

/**
 * A Kahu create naming another live host's hypervisor instance, or any request for instance `<id>@<host>`
 * of another host, forwarded (signed, as the caller; the token and cookie stay here) to that host's Kahu
 * front at the same path; a relative Location in the answer is made absolute on that host, where the
 * instance and its id live. undefined when this host answers (503 when `<host>` is not a live member).
 */
export async function kahuFleetForward(
  core: Core,
  fleet: Fleet,
  listener: ListenerPlan,
  request: Request,
  caller: Caller | null,
): Promise<Response | undefined> {
  const path = kahuPath(listener, new URL(request.url).pathname);
  if (path === null) return;
  const max = core.config.limits.max_body_bytes;
  if (!CREATE.test(path)) {
    const to = await instanceHost(fleet, path);
    return to && located(await forwardTo(fleet, to, request, await bodyOf(request, max), caller), to);
  }
  if (request.method !== "POST") return;
  let hypervisor: string | undefined;
  {
    await using values = await readRequestValues(request.clone() as Request, {
      json: true,
      otherBodies: "ignore",
      maxValueBytes: core.config.limits.max_body_bytes,
    });
    hypervisor = values.get("hypervisor");
  }
  const to = await kahuPlacement(core, hypervisor);
  if (!to) return;
  return located(await forwardTo(fleet, to, request, await bodyOf(request, max), caller), to);
}
