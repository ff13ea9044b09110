// libvirtd goes away and comes back: berth answers 503 fast meanwhile and reconnects by itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HypervisorUnavailable } from "../../src/errors.ts";
import { createApp } from "../../src/routes/app.ts";
import { testConfig, testCore } from "../support/core.ts";
import { json } from "../support/http.ts";
import { startLibvirtd, stopLibvirtd, waitFor } from "./support/daemons.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";

describe.skipIf(!integrationReady())("hypervisor outage", () => {
  let core: Awaited<ReturnType<typeof testCore>>;
  beforeAll(async () => {
    core = await testCore(
      testConfig("[hypervisor]\nworkers = 2\nreconnect_max_ms = 500\ncall_timeout_ms = 5000", {
        BERTH_HYPERVISOR_URI: SYSTEM_URI,
      }),
    );
  });
  afterAll(async () => {
    await startLibvirtd();
    await core.close();
  });

  test("stop libvirtd: down within seconds, 503 fast; start it: up again without a restart", async () => {
    const app = createApp(core);
    expect(core.hv.state).toBe("up");
    expect((await core.hv.call("domain.list", {})).length).toBeGreaterThanOrEqual(0);

    stopLibvirtd();
    // The event pump sees the socket close; a call in flight would also report it.
    const detected = await waitFor(
      async () => {
        const isDown = () => core.hv.state === "down";
        if (isDown()) return true;
        await core.hv.call("ping", {}).catch(() => {});
        return isDown();
      },
      10_000,
      "berth to notice libvirtd is gone",
    );
    console.log(`outage detected in ${detected.toFixed(0)} ms`);

    const t0 = performance.now();
    const err = await core.hv.call("domain.list", {}).catch((e) => e);
    expect(err).toBeInstanceOf(HypervisorUnavailable);
    expect(performance.now() - t0).toBeLessThan(100);
    const health = await app.handle(new Request("http://localhost/healthz"));
    expect(health.status).toBe(503);
    expect((await json(health)).checks.hypervisor).toContain("unavailable");

    await startLibvirtd();
    const back = await waitFor(() => core.hv.state === "up", 15_000, "berth to reconnect");
    console.log(`reconnected ${back.toFixed(0)} ms after libvirtd answered`);
    expect((await core.hv.call("hostInfo", {})).uri).toBe(SYSTEM_URI);
    expect((await app.handle(new Request("http://localhost/healthz"))).status).toBe(200);
  }, 60_000);
});
