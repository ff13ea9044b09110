// A running berth on test:///default with sysadm's listeners on free ports, [auth] on (root admin, alice), for the sysadm tests.
import { readFileSync } from "node:fs";
import { type RunningBerth, startBerth } from "../../../src/server.ts";
import { testConfig } from "../../support/core.ts";
import { WORKERS } from "../../support/workers.ts";

/** A port nobody listens on right now: the kernel picks it for a throwaway listener. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = probe.port as number;
  probe.stop(true);
  return p;
}

export interface SysadmBerth {
  berth: RunningBerth;
  main: string;
  ws: string;
  rest: string;
  /** The certificate berth made (PEM), to pin. */
  ca: string;
  keyFile: string;
}

export async function sysadmBerth(tag: string, extra = ""): Promise<SysadmBerth> {
  const hash = (pw: string) => Bun.password.hash(pw, { algorithm: "argon2id" });
  const user = async (name: string, admin: boolean) =>
    `[[auth.users]]\nname = "${name}"\npassword_hash = "${await hash(`${name}-pw`)}"\nadmin = ${admin}\n`;
  const [main, ws, rest] = [freePort(), freePort(), freePort()].map((p) => `127.0.0.1:${p}`);
  const config = testConfig(`listen = "${main}"
[demo]
enabled = false
[network]
manage_bridges = false
[storage]
pool = "${tag}-store"
[pvc]
listen = ""
[sysadm]
listen_ws = "${ws}"
listen_rest = "${rest}"
auth_timeout_s = 1
${extra}
[auth]
enabled = true
${await user("root", true)}${await user("alice", false)}`);
  const berth = await startBerth(config, WORKERS);
  const certFile = `${config.data_dir}/sysadm/server.crt`;
  return {
    berth,
    main: main as string,
    ws: ws as string,
    rest: rest as string,
    ca: readFileSync(certFile, "utf8"),
    keyFile: `${config.data_dir}/sysadm/server.key`,
  };
}
