// The staging agent's error shape: {"error": "<message>"} (the agent documented no error body).
import { frontErrorShape } from "../front-errors.ts";

/** The body the front answers for an error. */
export function stagingErrorBody(message: string): { error: string } {
  return { error: message };
}

export const stagingErrorShape = frontErrorShape(stagingErrorBody);
