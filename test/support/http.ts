// Reading JSON responses in tests, where assertions walk arbitrary shapes.

// biome-ignore lint/suspicious/noExplicitAny: assertions below check the shape at run time
export type Json = any;

export async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}
