// Message helpers shared by both hook kinds: short, single-line, and free of the secrets in URLs and commands.
import { oneLine } from '../core/format.js';
import { MIN_SECRET_LENGTH, secretForms } from '../core/redact.js';
import { commandCredentials } from './command-credentials.js';

/** Keeps only the last `limit` bytes of a stream, so a chatty hook cannot grow memory. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** The last non-empty line, trimmed and cut to a length that fits in one message. */
export function lastLine(text: string, max = 200): string {
  const line =
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .at(-1) ?? '';
  return clip(line, max);
}

/** One line of at most `max` characters, free of terminal escapes (a hook's output is printed and journaled). */
export function clip(text: string, max: number): string {
  return oneLine(text, max);
}

/**
 * origin + path, each path segment that is not a plain word shown as `…`: tokens often ride in the query string,
 * credentials in the userinfo, and many webhooks put their token in the path (Slack's
 * `/services/T…/B…/<token>`, Discord's `/api/webhooks/<id>/<token>`). The URL stays recognisable by its origin and
 * shape: `https://hooks.slack.com/services/…/…/…`.
 */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // A scheme without an origin of its own (s3://, ssh://) says "null": its host stands for it.
    const origin = parsed.origin === 'null' ? `${parsed.protocol}//${parsed.host}` : parsed.origin;
    return `${origin}${parsed.pathname
      .split('/')
      .map((segment) => (pathSegmentShown(segment) ? segment : '…'))
      .join('/')}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A word (`services`, `IncomingWebhook`, `set-weight`), maybe with a short number after it (`v1`, `webhookb2`), is
 * shown; anything else (an id, a token: digits inside, runs of capitals, `%` escapes, over 24 characters) is not. A
 * shell variable (`$HOOK_PATH`, in an exec hook's command) is shown as written: it is not the value.
 */
function pathSegmentShown(segment: string): boolean {
  if (segment === '' || segment.startsWith('$')) return true;
  return segment.length <= 24 && /^[A-Za-z][a-z]*(?:[-_.][A-Za-z][a-z]*|[A-Z][a-z]+)*\d{0,2}$/.test(segment);
}

/**
 * The secret parts of a URL, for the redactor (so they are removed from anything else quoting the URL, a hook's
 * output) and for scrubUrl: the path segments safeUrl hides, the query's values, the userinfo and the Basic token
 * it is sent as; each as written and decoded.
 */
export function urlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const hidden = parsed.pathname.split('/').filter((segment) => !pathSegmentShown(segment));
  const values = [...parsed.searchParams.values()];
  const secrets = [...hidden, ...hidden.map(decodedPart), ...values, ...values.map(encodeURIComponent), ...credentialForms(parsed)];
  // Short pieces (a numeric id `/42/`) are not secrets, and replacing them would garble the message.
  return [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH);
}

/** Removes any trace of the URL's query string or credentials from text that may quote it (error messages). */
export function scrubUrl(text: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return text.split(url).join('(invalid URL)');
  }
  let out = text;
  for (const whole of [url, parsed.href]) out = out.split(whole).join(safeUrl(url));
  const values = [...parsed.searchParams.values()];
  return scrubValues(out, [
    parsed.search,
    parsed.search.slice(1),
    ...values,
    ...values.map(encodeURIComponent),
    ...credentialForms(parsed),
    ...urlSecrets(url),
  ]);
}

/** Each secret (longest first, so a whole query goes before the values inside it) replaced by `…`. */
function scrubValues(text: string, secrets: string[]): string {
  let out = text;
  // Very short pieces are skipped: replacing every "a" would garble the message for no safety gain.
  for (const secret of secrets.sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join('…');
  }
  return out;
}

/** The URL's userinfo as written (percent-encoded), and as decoded in the forms userinfoForms lists. */
function credentialForms(parsed: URL): string[] {
  if (parsed.username === '' && parsed.password === '') return [];
  return [parsed.username, parsed.password, ...userinfoForms(decodedPart(parsed.username), decodedPart(parsed.password))];
}

/**
 * A user and password, and the Basic auth token they are sent as (a webhook, curl): an answer quoting the
 * Authorization header, or `curl -v` printing it, would otherwise show the credentials. Each also as an answer may
 * quote it, URL-encoded or JSON-escaped (secretForms); the token also without its `=` padding (an answer
 * URL-encoding it as `%3D`, or dropping it: the rest still decodes to the credentials), and with its `/` escaped as
 * PHP's json_encode writes it.
 */
function userinfoForms(user: string, password: string): string[] {
  const token = basicTokenOf(user, password);
  const bare = token.replace(/=+$/, '');
  return [...[user, password, token, bare].flatMap(secretForms), bare.replaceAll('/', '\\/')];
}

/** The Basic auth token of a URL's userinfo (`user:password`, decoded, in base64), as webhooks send it. */
export function basicToken(parsed: URL): string {
  return basicTokenOf(decodedPart(parsed.username), decodedPart(parsed.password));
}

function basicTokenOf(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** The URL keeps userinfo percent-encoded; a stray `%` that decodes to nothing is sent as written. */
function decodedPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The URLs written in text (a command, a plan's value), of any scheme (`ftp://user:password@host`), up to a space, a
 * quote or a shell operator (`&` stays: it joins query parameters). The one rule for finding them; a new
 * expression each call, as a shared global one holds state (its lastIndex).
 */
function urlsIn(text: string): string[] {
  return text.match(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>|;()\\]+/gi) ?? [];
}

/**
 * `scrubUrl` for every URL an exec hook's command holds (`curl https://ci:token@ci.example/job?token=T`), and every
 * credential it passes otherwise (`curl -u ci:token`, `-H "Authorization: Bearer T"`: commandCredentials): the
 * command is printed in every message about the hook, and its output (curl's own errors, `curl -v`) may quote it too.
 */
export function scrubCommand(text: string, command: string): string {
  const out = urlsIn(command)
    .filter(holdsSecret)
    .reduce((scrubbed, url) => scrubUrl(scrubbed, url), text);
  const credentials = commandCredentials(command).flatMap(({ spellings, userinfo }) => [
    ...spellings.flatMap(secretForms),
    ...(userinfo ? userinfoForms(userinfo.user, userinfo.password) : []),
  ]);
  return scrubValues(out, credentials);
}

/** The secret parts (urlSecrets) of a webhook hook's URL, or of every URL an exec hook's command holds. */
export function hookUrlSecrets(hook: { exec?: string; webhook?: string }): string[] {
  const urls = hook.webhook !== undefined ? [hook.webhook] : urlsIn(hook.exec ?? '');
  return urls.flatMap(urlSecrets);
}

/** Credentials, a query string or a token in its path; a URL without them (or not a URL, `http://${HOST}/x`) is left as written. */
function holdsSecret(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || urlSecrets(url).length > 0;
  } catch {
    return false;
  }
}
