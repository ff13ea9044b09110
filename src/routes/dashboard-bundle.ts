// A macro run when berth is transpiled or compiled: bundles the dashboard (src/dashboard) into one script and one stylesheet, inlined as strings.
import { readFileSync } from "node:fs";

const root = new URL("../dashboard/", import.meta.url).pathname;

export interface DashboardAssets {
  page: string;
  script: string;
  style: string;
}

/** Bun.build cannot run inside a macro (the bundler waits on it), so the bun CLI bundles it, from argv. */
export function dashboardAssets(): DashboardAssets {
  const run = Bun.spawnSync(
    [process.execPath, "build", `${root}main.ts`, "--target=browser", "--format=esm", "--minify"],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
  );
  if (run.exitCode !== 0) throw new Error(`bundling the dashboard failed: ${run.stderr.toString()}`);
  const uplotCss = readFileSync(
    new URL("../../node_modules/uplot/dist/uPlot.min.css", import.meta.url),
    "utf8",
  );
  return {
    page: readFileSync(`${root}index.html`, "utf8"),
    script: run.stdout.toString(),
    style: `${uplotCss}\n${readFileSync(`${root}style.css`, "utf8")}`,
  };
}
