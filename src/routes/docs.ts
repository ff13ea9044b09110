// /openapi.json from the route schemas and /docs rendered by a Scalar bundle embedded in the binary (no CDN).
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
// `type: "file"` embeds the bundle in the compiled binary and gives its path at run time.
import scalarBundle from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js" with {
  type: "file",
};
import { BERTH_VERSION } from "../version.ts";

const BUNDLE_PATH = "/docs/assets/scalar.js";

// The plugin's type asks for every Scalar option; these two are all berth changes from the defaults.
const SCALAR = { cdn: BUNDLE_PATH, withDefaultFonts: false } as unknown as NonNullable<
  NonNullable<Parameters<typeof openapi>[0]>["scalar"]
>;

/** `tags`: every front's OpenAPI tags, each described by its front (src/routes/fronts/registry.ts). */
export function docsRoutes(tags: { name: string; description: string }[] = []) {
  return new Elysia()
    .get(
      BUNDLE_PATH,
      () => new Response(Bun.file(scalarBundle), { headers: { "content-type": "text/javascript" } }),
      {
        detail: { hide: true },
      },
    )
    .use(
      openapi({
        path: "/docs",
        specPath: "/openapi.json",
        provider: "scalar",
        scalar: SCALAR,
        exclude: { paths: [BUNDLE_PATH] },
        documentation: {
          tags,
          info: {
            title: "berth",
            version: BERTH_VERSION,
            description:
              "A self-service VM appliance over libvirt. Every error answers with a JSON object holding an error code and message.",
          },
        },
      }),
    );
}
