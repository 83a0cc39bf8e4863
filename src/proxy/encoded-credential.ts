// A header value that may carry a credential encoded: a Basic authorization value (RFC 7617: base64 of
// "user:password", which a gateway header may use for a key) or percent-encoded text (a key holding `+`, `/` or
// `=` sent URL-encoded). Decoded only where the value says so (its scheme, a `%`): nearly no value does, and the
// rest cost a character test or two.

const BASIC = /^[ \t]*basic[ \t]+([A-Za-z0-9+/_-]+=*)[ \t]*$/i;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;

/**
 * The value's text decoded one level, as latin1 (a header value is its bytes read as latin1, and a key is searched
 * for as its UTF-8 bytes so read); undefined when it is not encoded so. One level only: a value nested in
 * encodings could otherwise cost a decoding per level.
 */
export function decodedCredential(value: string): string | undefined {
  const first = value.charCodeAt(0) | 0x20;
  if (first === 0x62 /* b */ || first === 0x20 /* space */ || first === 0x29 /* tab | 0x20 */) {
    const basic = BASIC.exec(value);
    if (basic !== null) return Buffer.from(basic[1] as string, 'base64').toString('latin1');
  }
  if (!value.includes('%')) return undefined;
  const decoded = value.replace(ESCAPE, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return decoded === value ? undefined : decoded;
}
