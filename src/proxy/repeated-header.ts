// Headers a request may carry once only. Node's parser keeps the first of a repeated Host or Authorization and drops
// the rest (req.headers), so a check of the first alone passes `Host: 127.0.0.1` then `Host: evil.example`, or a
// right key then a wrong one, which another hop reading the last would take otherwise. The raw list has them all.

/** The first of `names` (lower case) that `raw` (IncomingMessage.rawHeaders: name, value, ...) holds more than once. */
export function repeatedHeader(raw: readonly string[], names: readonly string[]): string | undefined {
  for (const name of names) {
    let seen = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const header = raw[i] as string;
      // The length first: most names differ in it, and no lower-case copy is made for them.
      if (header.length === name.length && header.toLowerCase() === name && ++seen > 1) return name;
    }
  }
  return undefined;
}
