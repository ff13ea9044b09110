// A hypervisor client as [hypervisor] configures it, with the Worker files it runs.
import type { Config } from "../../config/schema.ts";
import { Hypervisor } from "./client.ts";

/** The Worker files a client runs: calls, and (for the thread that hears libvirt's events) the event pump. */
export interface HypervisorWorkerUrls {
  hypervisor: string;
  pump?: string;
}

export function openHypervisor(config: Config, urls: HypervisorWorkerUrls): Hypervisor {
  const hv = config.hypervisor;
  return new Hypervisor({
    uri: hv.uri,
    workerUrl: urls.hypervisor,
    pumpUrl: urls.pump,
    workers: hv.workers,
    callTimeoutMs: hv.call_timeout_ms,
    longCallTimeoutMs: hv.long_call_timeout_ms,
    reconnectMaxMs: hv.reconnect_max_ms,
  });
}
