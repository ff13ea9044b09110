// The one XML codec: fast-xml-parser configured once, so every builder escapes and every parser reads alike.
import { XMLBuilder, XMLParser } from "fast-xml-parser";

/** Attributes are keys starting with "@"; text content of an element with attributes is "#text". */
export const ATTR = "@";

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: "#text",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
});

/** Serialises a plain object tree; every text and attribute value is escaped by the library. */
export function toXml(tree: Record<string, unknown>): string {
  return builder.build(tree) as string;
}

/** Parses XML into a plain tree; elements named in `arrays` are always arrays. */
export function fromXml(xml: string, arrays: readonly string[] = []): Record<string, unknown> {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: ATTR,
    textNodeName: "#text",
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => arrays.includes(name),
  });
  return parser.parse(xml) as Record<string, unknown>;
}

/** An element parsed by `fromXml`: attributes under "@name", text under "#text", children by name. */
export type XmlNode = Record<string, unknown>;

export const isNode = (v: unknown): v is XmlNode => typeof v === "object" && v !== null && !Array.isArray(v);

/** Text of an element, parsed with or without attributes; null when it has none. */
export function textOf(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (isNode(v) && typeof v["#text"] === "string") return v["#text"];
  return null;
}

/** An attribute's value; null when absent. */
export function attrOf(v: unknown, name: string): string | null {
  if (!isNode(v)) return null;
  const a = v[`${ATTR}${name}`];
  return typeof a === "string" ? a : null;
}

/** An element that may occur once or many times, as a list. */
export function listOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}
