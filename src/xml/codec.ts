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
