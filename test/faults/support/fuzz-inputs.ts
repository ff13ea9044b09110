// Hostile values and schema-driven fast-check arbitraries for the bad-input fault suite.
import fc from "fast-check";

/** Text a careless server would trip over: traversal, shell, quoting, markup, control bytes, number look-alikes. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  ".",
  "..",
  "../",
  "../../../../etc/passwd",
  "..\\..\\windows",
  "a/../../b",
  "a;rm -rf /",
  "a && reboot",
  "$(id)",
  "`id`",
  "|id",
  "'",
  '"',
  "a'b\"c",
  "\\",
  "<",
  ">",
  "&",
  "&amp;",
  "&#0;",
  "<script>alert(1)</script>",
  "</name><devices><disk type='file' device='disk'><source file='/etc/shadow'/><target dev='vdz'/></disk></devices><name>x",
  "<domain type='kvm'><name>evil</name></domain>",
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>',
  "<![CDATA[x]]>",
  "]]>",
  "a\nb",
  "a\r\nSet-Cookie: x=1",
  "a\u0000b",
  "\u0000",
  "\t",
  "\u202e",
  "\uffff",
  "\ud800",
  "é",
  "日本語",
  "😀",
  "NaN",
  "Infinity",
  "-Infinity",
  "-1",
  "0",
  "-0",
  "1e309",
  "9007199254740993",
  "0x10",
  "1.5",
  "null",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "%00",
  "%ff",
  "%",
  "a".repeat(64),
  "a".repeat(5000),
  "http://169.254.169.254/latest/meta-data/",
  "file:///etc/passwd",
  "/etc/passwd",
  "/dev/zero",
];

/** Numbers at and past every edge a schema might bound. */
export const HOSTILE_NUMBERS = [
  -1,
  0,
  -0,
  0.5,
  1.5,
  -(2 ** 31),
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  Number.MIN_VALUE,
];

export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  // A valid-looking name with one hostile piece glued on.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("fz", "a", "x-1"), fc.constantFrom(...HOSTILE_STRINGS))
      .map(([a, b]) => a + b),
  },
);

/** Any JSON value of the wrong kind for most fields. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...HOSTILE_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(true, false, null, [], {}, [[]], [null], { a: 1 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
);

interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
}

/** Some of the strings a schema accepts: plausible names, so requests get past the first check now and then. */
const PLAUSIBLE = fc.constantFrom("fz", "fz-1", "a", "x", "default", "1", "2");

/** Schema-conforming most of the time; a hostile value in place of any node now and then. */
export function fromSchema(
  schema: JsonSchema | undefined,
  names: string[],
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return hostileValue;
  const conforming = conformingFor(schema, names, depth);
  return fc.oneof({ weight: 4, arbitrary: conforming }, { weight: 1, arbitrary: hostileValue });
}

function conformingFor(s: JsonSchema, names: string[], depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.anyOf?.length) return fc.oneof(...s.anyOf.map((b) => conformingFor(b, names, depth + 1)));
  const known = names.length > 0 ? fc.constantFrom(...names) : PLAUSIBLE;
  switch (s.type) {
    case "object":
      return objectFor(s, names, depth);
    case "array":
      return fc.array(fromSchema(s.items, names, depth + 1), { maxLength: Math.min(s.maxItems ?? 4, 4) });
    case "string":
      return fc.oneof(known, PLAUSIBLE, hostileString, fc.string({ maxLength: s.maxLength ?? 30 }));
    case "integer":
    case "number":
      return fc.oneof(
        fc.integer({ min: s.minimum ?? -1000, max: Math.min(s.maximum ?? 1000, 2 ** 31) }),
        fc.constantFrom(...HOSTILE_NUMBERS),
        (s.maximum ?? 0) > 0 ? fc.constant((s.maximum ?? 0) + 1) : fc.constant(-1),
      );
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return hostileValue;
  }
}

/** An object with its known fields (some dropped, required or not), sometimes an unknown field added. */
function objectFor(s: JsonSchema, names: string[], depth: number): fc.Arbitrary<unknown> {
  const props = Object.entries(s.properties ?? {});
  const fields = fc.tuple(
    ...props.map(([k, v]) =>
      fc.option(
        fromSchema(v, names, depth + 1).map((x) => [k, x] as const),
        { freq: (s.required ?? []).includes(k) ? 8 : 2 },
      ),
    ),
  );
  const patterned = Object.values(s.patternProperties ?? {})[0];
  const extra = patterned
    ? fc.dictionary(
        fc.oneof(fc.constantFrom(...names, "x"), hostileString),
        fromSchema(patterned, names, depth + 1),
        {
          maxKeys: 3,
        },
      )
    : fc.constant({});
  const unknown = fc.option(
    fc.tuple(fc.constantFrom("unknown", "__proto__", "constructor", "extra", "Name"), hostileValue),
    { freq: 4 },
  );
  return fc.tuple(fields, extra, unknown).map(([fs, ex, un]) => {
    const out: Record<string, unknown> = { ...(ex as Record<string, unknown>) };
    for (const f of fs) if (f) out[f[0]] = f[1];
    // defineProperty so a "__proto__" key is an own field of the JSON, not the object's prototype.
    if (un)
      Object.defineProperty(out, un[0], {
        value: un[1],
        enumerable: true,
        configurable: true,
        writable: true,
      });
    return out;
  });
}

/** Bodies that are not JSON at all, or not quite. */
export const INVALID_JSON = [
  "{",
  "}",
  "{]",
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":1e999999}',
  '{"a":123456789012345678901234567890}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '{"a":1}{"b":2}',
  '{"a":1} trailing',
  "null",
  "[]",
  "0",
  '"x"',
  "true",
  "\u0000",
  "<?xml version='1.0'?><domain/>",
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  "a=1&b=2",
  '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
  `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
  `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`,
];

/** Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, surrogates, truncation. */
export const INVALID_UTF8: Uint8Array[] = [
  [0xff],
  [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d], // {"name":"\xc3("}
  [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d], // a UTF-8 surrogate
  [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d], // overlong "/"
  [0x7b, 0x22, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x22, 0x3a, 0x31, 0x7d], // a 5-byte form as a key
  [0xef, 0xbb, 0xbf, 0x7b, 0x7d], // a BOM before {}
  [0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d], // UTF-16 with a BOM
  [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82], // truncated mid-character
].map((a) => new Uint8Array(a));

/** A several-MB body: a JSON object with one huge string field, or one huge unparseable run. */
export function hugeBody(kind: number, mb: number): string {
  const n = mb * 1024 * 1024;
  if (kind === 0) return JSON.stringify({ name: "a".repeat(n) });
  if (kind === 1)
    return JSON.stringify({
      name: "fz",
      tags: Object.fromEntries([...Array(n >> 6)].map((_, i) => [`k${i}`, "v".repeat(50)])),
    });
  return "x".repeat(n);
}

/** Content types: right, wrong, malformed, absent (null). */
export const CONTENT_TYPES: (string | null)[] = [
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  null,
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "multipart/form-data",
  "application/xml",
  "application/octet-stream",
  "application/json; charset=utf-16",
  "garbage",
  "application/json;;;=",
];

/** Percent-encodes a string for a path segment or query, even one holding a lone surrogate (as invalid bytes). */
export function encodeLoose(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s]
      .map((c) => {
        try {
          return encodeURIComponent(c);
        } catch {
          return "%ED%A0%80";
        }
      })
      .join("");
  }
}

/** Raw path segments that are already percent-encoded: malformed escapes and invalid UTF-8 among them. */
export const RAW_SEGMENTS = [
  "%ff",
  "%fe%ff",
  "%",
  "%zz",
  "%2e%2e",
  "%2e",
  "a%2fb",
  "%00",
  "%c0%af",
  "%ED%A0%80",
  "..%2f..%2f",
];
