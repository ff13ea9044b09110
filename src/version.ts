// berth's own version, read from package.json at build time (the compiled binary embeds it).
import pkg from "../package.json" with { type: "json" };

export const BERTH_VERSION: string = pkg.version;
