// The staging agent's error shape: {"error": "<message>"} (the agent documented no error body).
import { frontErrorShape } from "../front-errors.ts";

export const stagingErrorShape = frontErrorShape((message) => ({ error: message }));
