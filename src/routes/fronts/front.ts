// What a front declares: its name, its error shape, how callers authenticate, its routes, its docs.
import type { AnyElysia, TSchema } from "elysia";
import type { FrontName } from "../../config/fronts.ts";
import type { Config } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import type { ErrorBody } from "../errors.ts";

/** The auth guard's tables for one front; every pattern matches a whole request path. */
export interface AuthRules {
  /** Where a password is the credential: issuing a token needs one (a stolen token cannot renew itself). */
  passwordOnly: { method: string; pattern: RegExp }[];
  /** Token routes where a password may stand in for a token, as vmpooler's clients list and delete with one. */
  passwordOrToken: { method?: string; pattern: RegExp }[];
  /** Credentials that are optional here: core decides with or without them (vmpooler's own exceptions). */
  optional: { method: string; pattern: RegExp; by: "token" | "password" }[];
  /** Cookies that carry a berth token on these paths when no header does (Kahu's session cookie). */
  tokenCookies: { name: string; pattern: RegExp }[];
  /** A request value (query string or form field) that carries a berth token on these paths, after headers and cookies (PVC's `token`). */
  tokenValues: { name: string; pattern: RegExp }[];
}

/** Tables that ask nothing beyond the default (a token on every other mutating route); fronts add to a fresh one. */
export function noAuthRules(): AuthRules {
  return { passwordOnly: [], passwordOrToken: [], optional: [], tokenCookies: [], tokenValues: [] };
}

export interface Front {
  name: FrontName;
  /** What the front is, for the OpenAPI document's tag descriptions. */
  title: string;
  /** The OpenAPI tags its routes carry. */
  tags: readonly string[];
  /** The JSON schema of its error body, for the OpenAPI document (src/routes/docs-document.ts). */
  errorSchema: TSchema;
  /** The front's body for an error the one mapping described natively. */
  errorBody(native: ErrorBody): unknown;
  /** The front's status for it, when its dialect has its own (PVC's 510); absent: the mapping's status stays. */
  errorStatus?(status: number, native: ErrorBody, unknownRoute: boolean): number;
  /** Statuses of 500 and above its dialect answers for refusals and failures that are not berth's bugs (PVC's 510, 520, 599). */
  refusalStatuses?: readonly number[];
  /** Whether an answer's body is an error in this front's shape (the contract suite and the fuzzer check it). */
  isErrorBody(body: unknown): boolean;
  /** How its callers authenticate under `bases`: the guard's tables (every other mutating route needs a token). */
  auth(config: Config, bases: readonly string[]): AuthRules;
  /** Its routes under each of `bases` ("" is the root; src/config/fronts.ts says where it is served). */
  routes(core: Core, bases: readonly string[]): AnyElysia;
  /** Its WebSocket protocol, on a listener whose plan names it as `socket` (sysadm's listen_ws). */
  socket?(core: Core): AnyElysia;
}
