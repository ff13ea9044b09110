// Compatible fronts answer errors in their own document's body shape; statuses still come from the one mapping.

interface NativeErrorBody {
  error: { code: string; message: string };
}

function isNativeError(x: unknown): x is NativeErrorBody {
  if (typeof x !== "object" || x === null || !("error" in x)) return false;
  const e = (x as { error: unknown }).error;
  return typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string";
}

/** A mapResponse hook that re-shapes the native error body with `body(message)`, keeping its status. */
export function frontErrorShape(body: (message: string) => unknown) {
  return ({ response, set }: { response: unknown; set: { status?: number | string } }) => {
    if (!isNativeError(response)) return undefined;
    const status = typeof set.status === "number" ? set.status : 500;
    return Response.json(body(response.error.message), { status });
  };
}
