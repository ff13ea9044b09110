// The start-up checks of [auth]: never serve a non-loopback address unauthenticated by accident.
import { listenerPlan, listenKey } from "../../config/fronts.ts";
import { isLoopback, parseListen } from "../../config/listen.ts";
import type { Config } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";
import { usersOf } from "./users.ts";

/** Pure: throws ConfigError when any listener (main or a front's own) is beyond loopback with auth off and no explicit consent. */
export function assertSafeListen(config: Config): void {
  if (config.auth.enabled || config.auth.allow_insecure_listen) return;
  for (const plan of listenerPlan(config)) {
    const address = plan.address;
    if (isLoopback(parseListen(address).hostname)) continue;
    const key = listenKey(plan);
    throw new ConfigError(
      `${key} ${address} is not a loopback address and [auth] enabled is false: anyone reaching it could create and delete VMs. Enable [auth] (with users), listen on 127.0.0.1, or set [auth] allow_insecure_listen = true`,
    );
  }
}

/** Everything berth checks about [auth] before it starts: the listen address, the users (file), a user to log in. */
export function checkAuthConfig(config: Config): void {
  assertSafeListen(config);
  const users = usersOf(config);
  if (config.auth.enabled && users.size === 0) {
    throw new ConfigError("[auth] enabled is true but no user is declared (auth.users or auth.users_file)");
  }
}
