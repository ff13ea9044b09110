// The berth command line: one binary, a few subcommands; returns the process exit status.
import { loadConfig } from "../config/load.ts";
import { checkAuthConfig } from "../core/auth/index.ts";
import { declaredProblems } from "../core/declared.ts";
import { declaredPoolProblems } from "../core/pools/declared.ts";
import { AppError, ConfigError } from "../errors.ts";
import { log, setLogLevel } from "../log.ts";
import { startBerth, type WorkerUrls } from "../server.ts";
import { BERTH_VERSION } from "../version.ts";
import { parseCli, USAGE } from "./args.ts";
import { runConsole } from "./console.ts";
import { runDemoImage } from "./demo-image.ts";
import { runHashPassword } from "./hash-password.ts";

export async function runCli(argv: string[], urls: WorkerUrls): Promise<number> {
  // `vm console` parses its own options (--url, --force, ...), so it goes before the strict parser.
  if (argv[0] === "vm" && argv[1] === "console") return await runConsole(argv.slice(2));
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (e) {
    console.error(`berth: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const cmd = args.command.join(" ");
  if (args.help || cmd === "help" || cmd === "") {
    console.log(USAGE);
    return cmd === "" && !args.help ? 2 : 0;
  }
  try {
    switch (cmd) {
      case "version":
        console.log(`berth ${BERTH_VERSION}`);
        return 0;
      case "config check": {
        const config = await loadConfig({ path: args.config });
        checkAuthConfig(config);
        const problems = [...declaredProblems(config), ...declaredPoolProblems(config)];
        if (problems.length > 0) {
          console.error(`berth: invalid declared sizes, profiles or pools:\n  ${problems.join("\n  ")}`);
          return 1;
        }
        console.log("config ok");
        return 0;
      }
      case "hash-password":
        return await runHashPassword();
      case "demo-image":
        return await runDemoImage(args.config, args.out);
      case "serve":
        return await serve(args.config, urls);
      default:
        console.error(`berth: unknown command "${cmd}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) console.error(`berth: ${e.message}`);
    else if (e instanceof AppError) console.error(`berth: ${e.message}`);
    else console.error("berth:", e);
    return 1;
  }
}

async function serve(configPath: string | undefined, urls: WorkerUrls): Promise<number> {
  const config = await loadConfig({ path: configPath });
  checkAuthConfig(config);
  setLogLevel(config.log_level);
  const berth = await startBerth(config, urls);
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info("stopping", { signal });
      berth.stop().then(
        () => resolve(0),
        (e) => {
          log.error("unclean stop", { error: String(e) });
          resolve(1);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
