// The staging agent's error shape: {"error": "<message>"} (the agent documented no error body).

/** The body the front answers for an error. */
export function stagingErrorBody(message: string): { error: string } {
  return { error: message };
}

/** Whether `body` is an error in the agent's shape. */
export function isStagingErrorBody(body: unknown): boolean {
  return typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "string";
}
