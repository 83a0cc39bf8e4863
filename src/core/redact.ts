// One redactor for every boundary where text leaves bluegreen (output streams, state files, journal, reports,
// hook environments and hook output): any known secret value, in any of the forms it travels in, becomes
// "[redacted]".

export const REDACTED = '[redacted]';

/**
 * Values shorter than this are not treated as secrets: replacing every "abc" would garble messages for no
 * safety gain, and no real API key is that short.
 */
export const MIN_SECRET_LENGTH = 8;

export interface Redactor {
  /** The text with every known secret replaced. */
  text(text: string): string;
  /** A deep copy of JSON-like data with every string redacted (keys included). */
  value<T>(value: T): T;
  /** Adds secret values (empty and too-short ones are ignored); later calls see them. */
  add(...secrets: (string | undefined)[]): void;
  /** Whether any secret is known (so callers can skip work). */
  active(): boolean;
}

/**
 * An upstream may echo part of a key ("Incorrect API key provided: sk-proj-abc123…"): any run of at least this many
 * of the first characters of a secret (or of one of its spellings, see secretForms) counts as the secret, and so
 * does a run of its last characters (text kept by its end may start inside a key).
 */
export const SECRET_PREFIX_LENGTH = 12;

/** `text` as a regular expression matching it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Any prefix of the secret at least SECRET_PREFIX_LENGTH long (longest first, by nesting). `head` is what every
 * such prefix starts with: a search for it is cheaper than the regular expression's replace on text holding none
 * (every answer header a proxy passes on).
 */
function prefixPattern(secret: string): { head: string; pattern: RegExp } | undefined {
  if (secret.length <= SECRET_PREFIX_LENGTH) return undefined;
  let tail = '';
  for (let i = secret.length - 1; i >= SECRET_PREFIX_LENGTH; i--) tail = `(?:${escapeRegExp(secret.charAt(i))}${tail})?`;
  const head = secret.slice(0, SECRET_PREFIX_LENGTH);
  return { head, pattern: new RegExp(escapeRegExp(head) + tail, 'g') };
}

/**
 * Any suffix of the secret at least SECRET_PREFIX_LENGTH long: text kept by its end (a hook's last 4 KB of
 * output, a cell cut from the left) may start inside a key. `end` is what every such suffix ends with, a cheap
 * test before the regular expression.
 */
function suffixPattern(secret: string): { end: string; pattern: RegExp } | undefined {
  if (secret.length <= SECRET_PREFIX_LENGTH) return undefined;
  const cut = secret.length - SECRET_PREFIX_LENGTH;
  let head = '';
  for (let i = 0; i < cut; i++) head = `(?:${head}${escapeRegExp(secret.charAt(i))})?`;
  const end = secret.slice(cut);
  return { end, pattern: new RegExp(head + escapeRegExp(end), 'g') };
}

/**
 * A key's public part, the same for every key of its kind (`sk-proj-`, `sk-ant-api03-`, `gsk_`): text showing it
 * says only what kind of key it was.
 */
const PUBLIC_PART = /^(?:[a-z0-9]{1,8}[-_]){1,3}/;
/** The fewest characters of a key with no public part that a cut may leave before they count as its start. */
const CUT_PREFIX_MIN = 6;

/**
 * A prefix of the secret shorter than SECRET_PREFIX_LENGTH but past its public part, where text was cut: at the
 * text's end or before an ellipsis (`sk-proj-Q9w…`, a line cut at 200 characters by whatever cut it before it was
 * redacted: an upstream, a relay). Elsewhere so short a run is left alone, as it would match unrelated text.
 */
function cutPrefixPattern(secret: string): { head: string; pattern: RegExp } | undefined {
  const shortest = Math.max((PUBLIC_PART.exec(secret)?.[0].length ?? 0) + 1, CUT_PREFIX_MIN);
  if (secret.length <= SECRET_PREFIX_LENGTH || shortest >= SECRET_PREFIX_LENGTH) return undefined;
  let tail = '';
  for (let i = SECRET_PREFIX_LENGTH - 2; i >= shortest; i--) tail = `(?:${escapeRegExp(secret.charAt(i))}${tail})?`;
  const head = secret.slice(0, shortest);
  return { head, pattern: new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(head)}${tail}(?=…|\\.\\.\\.|$)`, 'g') };
}

/** The spellings a secret takes on its way into text: as is, JSON-escaped (a report), URL-encoded (a query). */
export function secretForms(secret: string): string[] {
  return [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
}

export function createRedactor(secrets: readonly (string | undefined)[] = []): Redactor {
  const known = new Set<string>();
  // Longest first, so a secret containing another is replaced whole.
  let patterns: string[] = [];
  let prefixes: { head: string; pattern: RegExp }[] = [];
  let suffixes: { end: string; pattern: RegExp }[] = [];
  let cutPrefixes: { head: string; pattern: RegExp }[] = [];

  const redactText = (text: string): string => {
    if (patterns.length === 0 || text.length < MIN_SECRET_LENGTH) return text;
    let out = text;
    for (const pattern of patterns) if (out.includes(pattern)) out = out.split(pattern).join(REDACTED);
    for (const { head, pattern } of prefixes) if (out.includes(head)) out = out.replace(pattern, REDACTED);
    for (const { end, pattern } of suffixes) if (out.includes(end)) out = out.replace(pattern, REDACTED);
    for (const { head, pattern } of cutPrefixes) if (out.includes(head)) out = out.replace(pattern, REDACTED);
    return out;
  };

  const redactValue = (value: unknown): unknown => {
    if (typeof value === 'string') return redactText(value);
    if (Array.isArray(value)) return value.map(redactValue);
    if (value !== null && typeof value === 'object') {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[redactText(key)] = redactValue(inner);
      return out;
    }
    return value;
  };

  const redactor: Redactor = {
    text: redactText,
    value: <T>(value: T): T => (patterns.length === 0 ? value : (redactValue(value) as T)),
    add(...values) {
      let changed = false;
      for (const raw of values) {
        const secret = raw?.trim();
        if (!secret || secret.length < MIN_SECRET_LENGTH || known.has(secret)) continue;
        known.add(secret);
        changed = true;
      }
      if (!changed) return;
      const all = new Set<string>();
      for (const secret of known) for (const form of secretForms(secret)) if (form.length >= MIN_SECRET_LENGTH) all.add(form);
      patterns = [...all].sort((a, b) => b.length - a.length);
      // A truncated echo may be of any spelling (a relay quoting the URL-encoded key it was sent).
      const spellings = new Set([...known].flatMap(secretForms));
      prefixes = [...spellings].map(prefixPattern).filter((prefix) => prefix !== undefined);
      suffixes = [...spellings].map(suffixPattern).filter((suffix) => suffix !== undefined);
      cutPrefixes = [...spellings].map(cutPrefixPattern).filter((prefix) => prefix !== undefined);
    },
    active: () => patterns.length > 0,
  };
  redactor.add(...secrets);
  return redactor;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The environment without the named secret variables, and without any other variable holding a secret value
 * (a copy of the key under another name), except those in `keep`.
 */
export function withoutSecrets(env: NodeJS.ProcessEnv, names: readonly string[], redactor: Redactor, keep: readonly string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (keep.includes(name)) {
      out[name] = value;
      continue;
    }
    if (names.includes(name)) continue;
    if (value !== undefined && redactor.text(value) !== value) continue;
    out[name] = value;
  }
  return out;
}

/** Something text is written to (a stream, or a test's collector). */
export interface TextSink {
  write(chunk: string | Uint8Array, ...rest: unknown[]): unknown;
}

/**
 * The same stream, with every write redacted. A Proxy rather than a new stream, so a TTY's columns, rows,
 * isTTY and resize events (which Ink reads) stay the real ones. Every writer in bluegreen writes whole lines or
 * frames, so a secret is never split across two writes.
 */
export function redactingStream<S extends TextSink>(stream: S, redactor: Redactor): S {
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): unknown => {
    if (!redactor.active()) return stream.write(chunk, ...rest);
    if (typeof chunk === 'string') return stream.write(redactor.text(chunk), ...rest);
    const text = Buffer.from(chunk).toString('utf8');
    const clean = redactor.text(text);
    return stream.write(clean === text ? chunk : Buffer.from(clean, 'utf8'), ...rest);
  };
  return new Proxy(stream, {
    get(target, property, _receiver) {
      if (property === 'write') return write;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(target, property, value) {
      return Reflect.set(target, property, value, target);
    },
  });
}
