// Kahu's instances in one scope (the top level, or a tenant): list, show, create, start, stop, delete, and an interface's address.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { kahuScope } from "../../core/fronts/kahu.ts";
import {
  createInstance,
  deleteInstance,
  instanceAddress,
  instanceVm,
  kahuInstance,
  listInstances,
  powerInstance,
} from "../../core/fronts/kahu-instances.ts";
import { PROJECT_NAME } from "../../patterns.ts";
import { callerOf } from "../auth.ts";
import {
  AddressBody,
  CreatedInstanceBody,
  formBody,
  InstanceBody,
  InstancesBody,
  MessageBody,
} from "./bodies.ts";
import { kahuForm } from "./form.ts";

const tags = ["kahu"];

/** The path parameters of a scope: a tenant's id (a berth project name), when the scope is a tenant's. */
export const TenantParam = { tenant: t.Optional(t.String({ pattern: PROJECT_NAME })) };
/** An instance id: its number on this host, or on a fleet `<number>@<host>` (16 digits, "@", a 63-character label). */
export const InstanceParams = t.Object({ ...TenantParam, id: t.String({ maxLength: 80 }) });
/** A scope's own routes have no parameter at the top level (Elysia then has none to validate). */
const scopeParams = (scopePath: string) => (scopePath === "" ? {} : { params: t.Object(TenantParam) });

/** Mounted twice under `<base>/v0`: at the top level (`scopePath` "") and under /tenant/:tenant. */
export function kahuInstanceRoutes(core: Core, api: string, scopePath: string) {
  const scopeOf = (params: { tenant?: string } | undefined) => kahuScope(api, params?.tenant);
  const one = `${scopePath}/compute/instance/:id`;
  return new Elysia()
    .get(
      `${scopePath}/compute/instance`,
      async (ctx) => await listInstances(core, callerOf(ctx), scopeOf(ctx.params)),
      {
        ...scopeParams(scopePath),
        detail: { summary: "The scope's instances by id", responses: { 200: InstancesBody }, tags },
      },
    )
    .post(
      `${scopePath}/compute/instance`,
      async (ctx) => {
        await using form = await kahuForm(core, ctx.request, {
          required: ["profile"],
          optional: ["size", "hypervisor", "ssh-key", "name"],
        });
        const get = (n: string) => form.get(n) || undefined;
        const made = await createInstance(core, callerOf(ctx), scopeOf(ctx.params), {
          profile: form.get("profile") as string,
          size: get("size"),
          hypervisor: get("hypervisor"),
          sshKey: get("ssh-key"),
          name: get("name"),
        });
        ctx.set.headers.location = made.location;
        return ctx.status(201, made.body);
      },
      {
        ...scopeParams(scopePath),
        parse: "none",
        detail: {
          summary:
            "Create a stopped instance from a profile and a size (form: profile, size, hypervisor, ssh-key, name); 201 with its URI in Location",
          requestBody: formBody({
            profile: t.String({ description: "a profile's name or URI" }),
            size: t.Optional(t.String({ description: "a size's name or URI" })),
            hypervisor: t.Optional(t.String({ description: "this host's URI, id 0 or name" })),
            "ssh-key": t.Optional(t.String()),
            name: t.Optional(t.String()),
          }),
          responses: { 201: CreatedInstanceBody },
          tags,
        },
      },
    )
    .get(
      one,
      async (ctx) => {
        const scope = scopeOf(ctx.params);
        return kahuInstance(scope, await instanceVm(core, callerOf(ctx), scope, ctx.params.id));
      },
      { params: InstanceParams, detail: { summary: "One instance", responses: { 200: InstanceBody }, tags } },
    )
    .delete(
      one,
      async (ctx) => await deleteInstance(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id),
      {
        params: InstanceParams,
        detail: {
          summary: "Delete a stopped instance (400 while it runs)",
          responses: { 200: MessageBody("instance deleted") },
          tags,
        },
      },
    )
    .post(
      `${one}/start`,
      async (ctx) => await powerInstance(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, "start"),
      {
        params: InstanceParams,
        parse: "none",
        detail: {
          summary: "Start (400: already running)",
          responses: { 200: MessageBody("instance started") },
          tags,
        },
      },
    )
    .post(
      `${one}/stop`,
      async (ctx) => await powerInstance(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, "stop"),
      {
        params: InstanceParams,
        parse: "none",
        detail: {
          summary: "Stop (400: already stopped)",
          responses: { 200: MessageBody("instance stopped") },
          tags,
        },
      },
    )
    .get(
      `${one}/network/:iface/address`,
      async (ctx) =>
        await instanceAddress(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, ctx.params.iface),
      {
        params: t.Object({ ...InstanceParams.properties, iface: t.String({ maxLength: 253 }) }),
        detail: {
          summary:
            "The IPv4 address of an interface (a key of its network map); 404 until its DHCP lease shows",
          responses: { 200: AddressBody },
          tags,
        },
      },
    );
}
