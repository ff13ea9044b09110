// Kahu's create on a fleet: an instance whose `hypervisor` is another host is created there, its Location that host's URL.
import type { ListenerPlan } from "../../config/fronts.ts";
import type { Caller } from "../../core/auth/caller.ts";
import type { Core } from "../../core/context.ts";
import type { Fleet } from "../../core/fleet/fleet.ts";
import { forwardTo } from "../../core/fleet/forward.ts";
import { kahuPlacement } from "../../core/fronts/kahu-placement.ts";
import { bodyOf } from "../fleet-arrival.ts";
import { readRequestValues } from "../request-values.ts";

const CREATE = /^\/v0(?:\/tenant\/[^/]+)?\/compute\/instance\/?$/;

/** Whether `path` is a Kahu instance create under one of its bases on this listener. */
function isCreate(listener: ListenerPlan, path: string): boolean {
  return listener.fronts.some(
    (p) =>
      p.front === "kahu" &&
      p.bases.some((base) => path.startsWith(`${base}/v0/`) && CREATE.test(path.slice(base.length))),
  );
}

/**
 * A Kahu create naming another live host's hypervisor instance, forwarded (signed, as the caller) to that
 * host's Kahu front at the same path; its 201 Location is made absolute on that host, where the instance
 * and its id live. undefined when this host creates it.
 */
export async function kahuFleetForward(
  core: Core,
  fleet: Fleet,
  listener: ListenerPlan,
  request: Request,
  caller: Caller | null,
): Promise<Response | undefined> {
  if (request.method !== "POST" || !isCreate(listener, new URL(request.url).pathname)) return;
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
  const answer = await forwardTo(
    fleet,
    to,
    request,
    await bodyOf(request, core.config.limits.max_body_bytes),
    caller,
  );
  const location = answer.headers.get("location");
  if (location?.startsWith("/")) answer.headers.set("location", new URL(location, to.api).href);
  return answer;
}
