// /v1/projects: the projects the caller sees, with how many of their VMs the caller sees.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { listProjects } from "../../core/projects.ts";
import { callerOf } from "../auth.ts";

const ProjectView = t.Object({
  name: t.String(),
  vms: t.Integer({ description: "the VMs of this project the caller sees" }),
});

export function projectRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/projects" }).get(
    "",
    ({ request }) => listProjects(core, callerOf({ request })),
    {
      response: t.Array(ProjectView),
      detail: {
        summary: "List projects with their VM counts",
        description:
          "A project has no record of its own: it exists while a VM names it. A user limited to projects ([[auth.users]] projects) gets exactly theirs (0 where empty); anyone else every project holding a VM they see, and default. Counts are of the VMs the caller sees.",
        tags: ["vms"],
      },
    },
  );
}
