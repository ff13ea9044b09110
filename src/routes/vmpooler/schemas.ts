// TypeBox schemas of vmpooler's API: its request bodies (unknown fields rejected) and path parameters.
import { t } from "elysia";

const strict = { additionalProperties: false } as const;

export const HostParams = t.Object({ hostname: t.String({ maxLength: 253, description: "the VM's name" }) });

export const CheckoutBody = t.Record(
  t.String({ minLength: 1, maxLength: 253 }),
  t.Union([t.Integer(), t.String({ maxLength: 8 })]),
  { ...strict, description: '{"<pool or alias>": count, …}; counts as numbers or strings ("2")' },
);

export const ChangeBody = t.Object(
  {
    lifetime: t.Optional(
      t.Union([t.Number(), t.String({ maxLength: 16 })], {
        description: 'hours from checkout, a positive number or its string, cut to whole hours ("4.5" is 4)',
      }),
    ),
    tags: t.Optional(
      t.Record(t.String({ minLength: 1, maxLength: 63 }), t.Union([t.String({ maxLength: 255 }), t.Null()]), {
        description: "merged into the VM's tags; a null or empty value is skipped, as vmpooler",
      }),
    ),
  },
  strict,
);

/** The `"ok": false` body of every failure. */
export const FailSchema = t.Object({ ok: t.Literal(false), reason: t.String() });

/** OpenAPI descriptions of the statuses a route answers besides its success. */
export function described(pairs: Record<number, string>): Record<string, { description: string }> {
  return Object.fromEntries(Object.entries(pairs).map(([code, description]) => [code, { description }]));
}
