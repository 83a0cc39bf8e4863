// The spellings a key takes when something quotes it encoded rather than as is: base64 (a Basic token, an
// encoded header), hex (a dump of a request's bytes), JSON \uXXXX escapes, upper or lower case. The proxy searches
// answers for them (src/proxy/header-keys.ts), and the CLI's redactor knows them (src/cli/secrets.ts): an upstream
// echoing the key so, or a hook printing it so, is redacted like the key itself.

/**
 * The characters of a secret's base64 encoding that depend on its bytes alone, at each of the three places its
 * first byte can fall in a base64 group (a key inside a longer encoded text: `Basic base64(user:key)`), in
 * standard and URL-safe base64. The characters shared with the bytes before or after it are left out.
 */
export function base64Spellings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const spellings = new Set<string>();
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const spelling = encoded.slice(Math.ceil((shift * 4) / 3), Math.floor((shift + bytes.length) / 3) * 4);
    spellings.add(spelling);
    spellings.add(spelling.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...spellings];
}

/**
 * A key's other spellings: in hex (lower and upper case), as JSON \uXXXX escapes of every character (as a serialiser
 * escaping all it writes does; lower- and upper-case hex digits), and upper- and lower-cased. The redactor counts
 * their first or last SECRET_PREFIX_LENGTH characters, like any spelling's, as the key.
 */
export function otherSpellings(secret: string): string[] {
  const hex = Buffer.from(secret, 'utf8').toString('hex');
  const escaped = [...secret].map((char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`).join('');
  const spellings = new Set([hex, hex.toUpperCase(), escaped, escaped.replace(/(?<=\\u)[0-9a-f]{4}/g, (digits) => digits.toUpperCase())]);
  spellings.add(secret.toUpperCase());
  spellings.add(secret.toLowerCase());
  spellings.delete(secret);
  return [...spellings];
}
