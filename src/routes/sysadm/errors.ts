// sysadm's error shapes: the WebSocket error reply, and REST's {"args": {code, message}} body (an action's own failure is in band).

/** The REST body of a refusal (the status says which): sysadm sent {"args": {}}; berth names its error code and message in it. */
export function sysadmErrorBody(code: string, message: string): { args: { code: string; message: string } } {
  return { args: { code, message } };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether `body` is a sysadm error: a refusal's args, or one action answered with its in-band {"error"}. */
export function isSysadmErrorBody(body: unknown): boolean {
  if (!isObject(body) || Object.keys(body).length !== 1 || !isObject(body.args)) return false;
  const args = body.args;
  if (typeof args.code === "string" && typeof args.message === "string")
    return Object.keys(args).length === 2;
  const values = Object.values(args);
  return values.length === 1 && isObject(values[0]) && typeof values[0].error === "string";
}
