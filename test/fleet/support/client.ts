// A client of one fleet host as one user: a token from that host, bounded requests, JSON answers.
import type { BerthNode } from "./berth-node.ts";
import { fleetUp, type Topology, USERS, type UserName } from "./topology.ts";

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

export class FleetClient {
  #token = "";
  constructor(
    readonly node: BerthNode,
    readonly user: UserName,
  ) {}

  async login(): Promise<this> {
    const basic = Buffer.from(`${this.user}:${USERS[this.user].password}`).toString("base64");
    const r = await fetch(`${this.node.api}/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Basic ${basic}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (r.status !== 201) throw new Error(`token for ${this.user}: ${r.status} ${await r.text()}`);
    this.#token = ((await r.json()) as { token: string }).token;
    return this;
  }

  async call(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<Answer> {
    const r = await fetch(`${this.node.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text; // not JSON: kept as text for the failure message
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }
}

/** Every user on every host (by the host it talks to and the user it logs in as): a suite takes the ones it needs. */
export const CLIENTS = {
  adminA: ["a", "admin"],
  adminB: ["b", "admin"],
  aliceA: ["a", "alice"],
  aliceB: ["b", "alice"],
  bobA: ["a", "bob"],
  bobB: ["b", "bob"],
} as const;
export type Clients = Record<keyof typeof CLIENTS, FleetClient>;

/** Brings the test fleet up and logs in every client of CLIENTS; a failed login tears the fleet down again. */
export async function fleetWithClients(leaseTtlS = 3): Promise<{ fleet: Topology; clients: Clients }> {
  const fleet = await fleetUp(leaseTtlS);
  try {
    const entries = await Promise.all(
      Object.entries(CLIENTS).map(
        async ([k, [host, user]]) => [k, await new FleetClient(fleet.berths[host], user).login()] as const,
      ),
    );
    return { fleet, clients: Object.fromEntries(entries) as Clients };
  } catch (e) {
    await fleet.down();
    throw e;
  }
}

/** Logs each client of `host` in again: after that berth's restart. */
export async function loginAgain(host: "a" | "b", ...clients: FleetClient[]): Promise<void> {
  await Promise.all(clients.filter((c) => c.node.host.node === host).map((c) => c.login()));
}
