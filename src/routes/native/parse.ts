// Body parsing shared by routes whose JSON body is optional.

/**
 * Elysia ignores malformed JSON when the body schema is optional; this parser keeps "no body" optional
 * and makes a malformed one the usual 400 invalid_json (Elysia reports a throwing parser as PARSE).
 */
export async function optionalJson({ request }: { request: Request }): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new Error("request body is not valid JSON", { cause });
  }
}
