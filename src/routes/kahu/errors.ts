// Kahu's error shape: {"message": "<what went wrong>"} with the status (Kahu documented no error body; its successes carry "message").

/** The body the front answers for an error. */
export function kahuErrorBody(message: string): { message: string } {
  return { message };
}

/** Whether `body` is an error in Kahu's shape: an object whose only member is a string message. */
export function isKahuErrorBody(body: unknown): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  return keys.length === 1 && typeof (body as { message?: unknown }).message === "string";
}
