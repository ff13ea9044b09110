// A documented response for `detail.responses`: the schema goes to /openapi.json only, so a route whose data is already right pays no validation or transform.
import type { TSchema } from "elysia";

export interface DocumentedResponse {
  description: string;
  content?: Record<string, { schema: TSchema; example?: unknown }>;
}

/** A JSON body described by `schema` (with an `example` of the real types, when given). */
export function documented(description: string, schema: TSchema, example?: unknown): DocumentedResponse {
  return {
    description,
    content: { "application/json": example === undefined ? { schema } : { schema, example } },
  };
}

/** A body of another media type (text, binary) described by `schema`. */
export function documentedAs(type: string, description: string, schema: TSchema): DocumentedResponse {
  return { description, content: { [type]: { schema } } };
}
