// `berth demo-image`: builds the demo pool's tiny guest into <data_dir>/demo (or --out DIR).
import { loadConfig } from "../config/load.ts";
import { buildTinyGuest } from "../core/demo/build-guest.ts";
import { demoDir } from "../core/demo/ensure.ts";

export async function runDemoImage(configPath: string | undefined, out: string | undefined): Promise<number> {
  const dir = out ?? demoDir(await loadConfig({ path: configPath }));
  const g = await buildTinyGuest(dir, (msg) => console.log(`berth demo-image: ${msg}`));
  console.log(
    `berth demo-image: ${g.built ? "built" : "up to date"}: kernel=${g.kernel} initrd=${g.initrd} (${g.kernelVersion})`,
  );
  return 0;
}
