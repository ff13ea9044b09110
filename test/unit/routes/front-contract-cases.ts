// What each front's contract needs to know about it: a route with a strict body, and an action on someone's VM.
import type { FrontName } from "../../../src/config/fronts.ts";

export interface Call {
  method: string;
  path: string;
  body?: unknown;
}

/** Sends a request as the holder of `token` (none: anonymous) and answers its status, parsed body and headers. */
export type Send = (
  call: Call,
  token?: string,
) => Promise<{ status: number; body: unknown; headers: Headers }>;

interface CommonCases {
  /** Makes a VM this front can name, owned by the holder of `token`; answers its name. */
  ownVm: (send: Send, token: string | undefined, tag: string) => Promise<string>;
  /**
   * The `n`th change to the VM (each may differ, for a front whose changes cannot repeat): its owner and an
   * admin may make it and another user may not; it leaves the VM in place.
   */
  change: (vm: string, n: number) => Call;
  /** The statuses another user's change is refused with (core's 403/404 unless the dialect has its own). */
  refused?: number[];
}

/** A front whose bodies are JSON: a route validating one strictly (malformed JSON and an unknown field are 400s). */
interface JsonCases extends CommonCases {
  strictBody: (vm: string) => { method: string; path: string; valid: Record<string, unknown> };
}

/** A front whose values come from forms and the query and ignore JSON (PVC): a call missing a mandatory value. */
interface FormCases extends CommonCases {
  missingValue: (vm: string) => { call: Call; statuses: number[] };
}

export type FrontCases = JsonCases | FormCases;

/** Made through the native API: the staging front names every berth VM by its own name. */
async function createdVm(
  send: Send,
  token: string | undefined,
  tag: string,
  profile: string,
): Promise<string> {
  const name = `fc-${tag}`;
  const r = await send({ method: "POST", path: "/v1/vms?wait=true", body: { name, profile } }, token);
  if (r.status !== 200) throw new Error(`creating ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return name;
}

/**
 * Each front's cases for a core whose profile (and size) is `profile` and whose vmpooler pool is `pool`, its
 * paths under `base`; `main` sends to the main listener (the native API makes the VMs a front without
 * a way to make one names).
 */
export function contractCases(
  profile: string,
  pool: string,
  base: string,
  main: Send,
): Record<FrontName, FrontCases> {
  return {
    native: {
      strictBody: (vm) => ({ method: "PATCH", path: `/v1/vms/${vm}`, valid: { description: "contract" } }),
      ownVm: (_send, token, tag) => createdVm(main, token, tag, profile),
      change: (vm) => ({ method: "PATCH", path: `/v1/vms/${vm}`, body: { description: "contract" } }),
    },
    staging: {
      strictBody: () => ({
        method: "POST",
        path: `${base}/hosts/fc-never-made`,
        valid: { memory: 64, disks: [1], networks: [] },
      }),
      ownVm: (_send, token, tag) => createdVm(main, token, tag, profile),
      change: (vm) => ({ method: "PUT", path: `${base}/hosts/${vm}/start` }),
    },
    vmpooler: {
      strictBody: (vm) => ({ method: "PUT", path: `${base}/vm/${vm}`, valid: { tags: { a: "b" } } }),
      ownVm: async (send, token) => {
        const r = await send({ method: "POST", path: `${base}/vm/${pool}` }, token);
        const host = (r.body as Record<string, { hostname?: unknown }>)[pool]?.hostname;
        if (r.status !== 200 || typeof host !== "string") {
          throw new Error(`checking out from ${pool}: ${r.status} ${JSON.stringify(r.body)}`);
        }
        return host;
      },
      change: (vm) => ({ method: "PUT", path: `${base}/vm/${vm}`, body: { tags: { contract: "yes" } } }),
    },
    kahu: {
      strictBody: (id) => ({
        method: "POST",
        path: `${base}/v0/compute/instance/${id}/storage`,
        valid: { name: "fcvol", size: 1024 },
      }),
      ownVm: async (send, token) => {
        const r = await send(
          { method: "POST", path: `${base}/v0/compute/instance`, body: { profile, size: profile } },
          token,
        );
        const id = /\/compute\/instance\/([0-9]+)\/$/.exec(r.headers.get("location") ?? "")?.[1];
        if (r.status !== 201 || id === undefined) {
          throw new Error(`creating an instance of ${profile}: ${r.status} ${JSON.stringify(r.body)}`);
        }
        return id;
      },
      // A new volume each time: adding one under a taken name is a conflict.
      change: (id, n) => ({
        method: "POST",
        path: `${base}/v0/compute/instance/${id}/storage`,
        body: { name: `fc${n}`, size: 1024 },
      }),
    },
    pvc: {
      // PVC ignores JSON bodies and unknown values (Flask's request.values); define without xml is its 520.
      missingValue: () => ({
        call: { method: "POST", path: `${base}/api/v1/vm/fc-any/define` },
        statuses: [520],
      }),
      ownVm: (_send, token, tag) => createdVm(main, token, tag, profile),
      // Stopped, started, stopped…: each change is one PVC accepts (the VM is made running).
      change: (vm, n) => ({
        method: "POST",
        path: `${base}/api/v1/vm/${vm}/${n % 2 === 0 ? "stop" : "start"}`,
      }),
      // A VM the caller may not see is one PVC cannot find: its 510.
      refused: [510],
    },
    sysadm: {
      // iohyve's args are checked strictly: a key its action does not take is a 400.
      strictBody: (vm) => ({
        method: "PUT",
        path: `${base}/sysadm/iohyve`,
        valid: { action: "getprops", name: vm },
      }),
      ownVm: (_send, token, tag) => createdVm(main, token, tag, profile),
      change: (vm, n) => ({
        method: "PUT",
        path: `${base}/sysadm/iohyve`,
        body: { action: "setprop", name: vm, description: `contract ${n}` },
      }),
      // sysadm answered an action's failure in band: 200 with {"args": {"setprop": {"error": ...}}}.
      refused: [200],
    },
  };
}
