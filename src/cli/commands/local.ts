// Commands that run on this host without the API: serve, config check, hash-password, demo-image.
import { loadConfig } from "../../config/load.ts";
import { checkAuthConfig } from "../../core/auth/index.ts";
import { declaredProblems } from "../../core/declared.ts";
import { declaredPoolProblems } from "../../core/pools/declared.ts";
import { log, setLogFile, setLogLevel } from "../../log.ts";
import { reloadConfig } from "../../reload.ts";
import { startBerth, type WorkerUrls } from "../../server.ts";
import { str } from "../args.ts";
import type { Command } from "../command.ts";
import { runDemoImage } from "../demo-image.ts";
import { runHashPassword } from "../hash-password.ts";
import { runTeardown } from "../teardown.ts";

async function serve(configPath: string | undefined, urls: WorkerUrls): Promise<number> {
  const config = await loadConfig({ path: configPath });
  checkAuthConfig(config);
  setLogLevel(config.log_level);
  if (config.log.file) setLogFile(config.log.file);
  const berth = await startBerth(config, urls);
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info("stopping", { signal });
      process.off("SIGHUP", reload);
      berth.stop().then(
        () => resolve(0),
        (e) => {
          log.error("unclean stop", { error: String(e) });
          resolve(1);
        },
      );
    };
    // One reload at a time: a second SIGHUP during one waits for it.
    let reloading: Promise<unknown> = Promise.resolve();
    const reload = () => {
      log.info("reloading", { signal: "SIGHUP" });
      reloading = reloading.then(() => reloadConfig(berth.core, configPath));
    };
    process.on("SIGHUP", reload);
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

export function localCommands(urls: WorkerUrls): Command[] {
  return [
    {
      words: ["serve"],
      summary: "Run the appliance (HTTP API, hypervisor workers)",
      local: ["config"],
      run: (ctx) => serve(str(ctx.values, "config"), urls),
    },
    {
      words: ["config", "check"],
      summary: "Validate the configuration: exit 0, or print each error and exit 1",
      local: ["config"],
      run: async (ctx) => {
        const config = await loadConfig({ path: str(ctx.values, "config") });
        checkAuthConfig(config);
        const problems = [...declaredProblems(config), ...declaredPoolProblems(config)];
        if (problems.length > 0) {
          console.error(`berth: invalid declared sizes, profiles or pools:\n  ${problems.join("\n  ")}`);
          return 1;
        }
        console.log("config ok");
        return 0;
      },
    },
    {
      words: ["hash-password"],
      summary:
        "Print an argon2id hash (for [auth] users) of a password asked without echo at a terminal, or read from stdin",
      local: [],
      run: () => runHashPassword(),
    },
    {
      words: ["teardown"],
      summary:
        "Stop and undefine this installation's VMs (by their metadata) and remove its networks and storage pool, before a purge (install.sh --uninstall --purge; berth stopped); exit 1 saying why when it cannot",
      local: ["config"],
      run: (ctx) => runTeardown(str(ctx.values, "config"), urls),
    },
    {
      words: ["demo-image"],
      summary: "Build the demo pool's tiny guest from Debian packages into <data_dir>/demo, or --out DIR",
      local: ["config", "out"],
      run: (ctx) => runDemoImage(str(ctx.values, "config"), str(ctx.values, "out")),
    },
  ];
}
