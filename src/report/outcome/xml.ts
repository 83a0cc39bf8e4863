// A tiny XML writer: elements, attributes and text, escaped. Enough for JUnit; no runtime dependency.

export type XmlAttrs = Record<string, string | number | undefined>;

export interface XmlElement {
  name: string;
  attrs?: XmlAttrs;
  /** Elements and text; text is escaped, never parsed. */
  children?: (XmlElement | string)[];
}

/**
 * XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF even as character references, so they are
 * dropped: reasons can quote upstream error text, which may hold anything. A new expression each call, as a
 * shared global one holds state (its lastIndex).
 */
function invalidCharacters(): RegExp {
  return /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
}

export function escapeText(text: string): string {
  return text.replace(invalidCharacters(), '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values also escape quotes, and keep newlines and tabs as references (parsers fold them otherwise). */
export function escapeAttr(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

export function renderXml(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderElement(root, '')}\n`;
}

function renderElement(element: XmlElement, indent: string): string {
  const attrs = Object.entries(element.attrs ?? {})
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${escapeAttr(String(value))}"`)
    .join('');
  const children = element.children ?? [];
  if (children.length === 0) return `${indent}<${element.name}${attrs}/>`;
  // Text content is written as is (no indentation added), so multi-line bodies keep their lines.
  if (children.every((child) => typeof child === 'string')) {
    return `${indent}<${element.name}${attrs}>${children.map((text) => escapeText(text)).join('')}</${element.name}>`;
  }
  const inner = children.map((child) => (typeof child === 'string' ? escapeText(child) : renderElement(child, `${indent}  `))).join('\n');
  return `${indent}<${element.name}${attrs}>\n${inner}\n${indent}</${element.name}>`;
}
