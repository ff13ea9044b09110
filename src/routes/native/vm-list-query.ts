// The query of GET /v1/vms (filters, list level, page) and the Link header that names its next page.
import { t } from "elysia";
import { VM_STATUSES } from "../../core/vms/index.ts";
import { LIBVIRT_NAME_MAX } from "../../patterns.ts";
import { ProjectName } from "./vm-schemas.ts";

/** The most VMs one page holds when a limit is given (without one, every VM). */
export const LIST_LIMIT_MAX = 1000;

export const VmListQuerySchema = t.Object(
  {
    state: t.Optional(
      t.Union(
        VM_STATUSES.map((v) => t.Literal(v)),
        { description: "berth's status of the VM" },
      ),
    ),
    name: t.Optional(t.String({ maxLength: LIBVIRT_NAME_MAX })),
    tag: t.Optional(t.String({ maxLength: 330, description: "key or key=value, exact" })),
    project: t.Optional(ProjectName),
    pool: t.Optional(t.String({ minLength: 1, maxLength: 63, description: "members of this pool, exact" })),
    owner: t.Optional(
      t.String({
        minLength: 1,
        maxLength: 255,
        description:
          "owned by this user (creator, else who has it checked out), exact; a non-admin matches only their own",
      }),
    ),
    recursion: t.Optional(
      t.Integer({ minimum: 0, maximum: 1, description: "0: URLs (/v1/vms/<name>); 1 (default): whole VMs" }),
    ),
    limit: t.Optional(
      t.Integer({
        minimum: 1,
        maximum: LIST_LIMIT_MAX,
        description: 'at most this many; a Link header with rel="next" names the next page',
      }),
    ),
    after: t.Optional(
      t.String({
        minLength: 1,
        maxLength: LIBVIRT_NAME_MAX,
        description: "only VMs whose name sorts after this one (the last name of the page before)",
      }),
    ),
  },
  { additionalProperties: false },
);

/** `Link: <path?…&after=last>; rel="next"`: the request's own query with `after` moved on. */
export function nextLink(requestUrl: string, last: string): string {
  const url = new URL(requestUrl);
  url.searchParams.set("after", last);
  return `<${url.pathname}?${url.searchParams.toString()}>; rel="next"`;
}
