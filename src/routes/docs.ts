// Each listener's /openapi.json (its own fronts' routes) and /docs, rendered by a Scalar bundle embedded in the binary (no CDN, nothing online).
import { toOpenAPISchema } from "@elysiajs/openapi";
import { type AnyElysia, Elysia } from "elysia";
// `type: "file"` embeds the bundle in the compiled binary and gives its path at run time.
import scalarBundle from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js" with {
  type: "file",
};
import type { ListenerPlan } from "../config/fronts.ts";
import type { Config } from "../config/schema.ts";
import { finishDocument } from "./docs-document.ts";
import { frontNamed } from "./fronts/registry.ts";
import { StaticBody } from "./static-body.ts";

export const BUNDLE_PATH = "/docs/assets/scalar.js";
export const SPEC_PATH = "/openapi.json";

/** Scalar's options for an offline appliance: no request client (it proxies through scalar.com), no fonts, telemetry, agent or MCP links. */
const SCALAR = {
  url: SPEC_PATH,
  withDefaultFonts: false,
  hideClientButton: true,
  hideTestRequestButton: true,
  showDeveloperTools: "never",
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  documentDownloadType: "json",
};

const INFO = {
  title: "berth",
  description:
    "A self-service VM appliance over libvirt. Every error answers with a JSON body in its front's shape. The security listed applies when [auth] is enabled; with it off every route is open.",
};

// JSON in an HTML attribute: < and ' escaped so the configuration cannot end the attribute or the script.
const attribute = (value: unknown) =>
  JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll("'", "\\u0027");

const PAGE = StaticBody.ofText(
  `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>${INFO.title} API</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <script id="api-reference" data-configuration='${attribute(SCALAR)}'></script>
    <script src="${BUNDLE_PATH}"></script>
  </body>
</html>
`,
  "text/html; charset=utf-8",
);

let bundle: StaticBody | undefined;
/** The bundle, read once from the binary; its ETag changes with the build. */
async function bundleBody(): Promise<StaticBody> {
  bundle ??= new StaticBody(
    await Bun.file(scalarBundle).bytes(),
    "text/javascript; charset=utf-8",
    "public, max-age=86400",
  );
  return bundle;
}

/**
 * The docs of the listener `app` serves: every front `listener` places there. `app` is the listener's
 * whole application, read once on the first request (its routes are fixed by then).
 */
export function docsRoutes(config: Config, listener: ListenerPlan, app: () => AnyElysia) {
  let spec: StaticBody | undefined;
  const tags = listener.fronts.flatMap(({ front }) => {
    const f = frontNamed(front);
    return f.tags.map((name) => ({ name, description: f.title }));
  });
  const document = () => {
    const raw = toOpenAPISchema(app(), { paths: [BUNDLE_PATH, SPEC_PATH, "/docs", "/docs/"] });
    const doc = finishDocument(raw, config, listener, INFO, tags);
    return StaticBody.ofText(JSON.stringify(doc), "application/json");
  };
  const hide = { detail: { hide: true } };
  return new Elysia()
    .get(BUNDLE_PATH, async ({ request }) => (await bundleBody()).response(request), hide)
    .get("/docs", ({ request }) => PAGE.response(request), hide)
    .get("/docs/", ({ request }) => PAGE.response(request), hide)
    .get(
      SPEC_PATH,
      ({ request }) => {
        spec ??= document();
        return spec.response(request);
      },
      hide,
    );
}
