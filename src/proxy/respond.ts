// Writing answers to the application: upstream headers passed on (hop-by-hop ones dropped, and those `Connection:`
// names), the arm named, and the proxy's own errors in the dialect's shape.
import type { Redactor } from '../core/redact.js';
import { maxHeaderSize, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { oneLine } from '../core/format.js';
import type { Duplex } from 'node:stream';
import type { ArmName } from '../plan/plan.js';
import { answerText } from './answer-text.js';
import type { HeaderMap } from '../upstream/classify.js';
import type { ClientSink, UnsentResponse } from './forward-types.js';
import type { InboundDialect, ProxyErrorKind, ProxyErrorReply } from './inbound.js';
import type { HeaderKeys } from './header-keys.js';
import type { ClientKeyHeaders } from './client-key-headers.js';
import type { SplitKeys, SplitKeyStream } from './split-key.js';

const ARM_HEADER = 'x-bluegreen-arm';
const FALLBACK_HEADER = 'x-bluegreen-fallback';

// Headers about one hop, or that the proxy sets itself for the body it sends.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade', 'te', 'trailer']);

// Upstream answer headers the application never sees: hop-by-hop ones, the upstream account's cookies and
// organisation (the proxy's business, not the application's), and the proxy's own (an upstream that is itself a
// bluegreen proxy must not claim a fallback this proxy did not make).
const NOT_PASSED = new Set([...HOP_BY_HOP, 'set-cookie', 'openai-organization', 'openai-project']);
const OWN_PREFIX = 'x-bluegreen-';

/**
 * The headers a message's `Connection:` names are about this hop alone (RFC 9110 7.6.1): dropped with it. What
 * the proxy reads for itself it reads from the message it received, so dropping them here takes nothing from it;
 * an answer's content-type stays all the same (its client cannot read the answer without it).
 */
function connectionNamed(headers: Readonly<Record<string, string | string[] | undefined>>): ReadonlySet<string> | undefined {
  const value = headers.connection;
  // Nearly every upstream answer says keep-alive (or close): nothing more to drop, nothing to allocate on the hot path.
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const names = new Set<string>();
  for (const list of Array.isArray(value) ? value : [value])
    for (const name of list.split(',')) {
      const trimmed = name.trim().toLowerCase();
      if (trimmed !== '' && trimmed !== 'content-type' && !HOP_BY_HOP.has(trimmed)) names.add(trimmed);
    }
  return names.size > 0 ? names : undefined;
}

export interface AnswerTag {
  arm: ArmName;
  fallback: boolean;
}

/** A flat header list, name then value, as writeHead takes it: Node reads it by index, not by walking an object's keys. */
export type HeaderList = (string | string[])[];

/**
 * The answer headers the application may see, with the arm's tag, as a flat list (passHeaders: as an object). An
 * object's names are looked up by varying keys twice (built here, walked by writeHead), megamorphic each time.
 */
export function passedHeaderList(headers: HeaderMap, tag: AnswerTag | undefined, keys?: HeaderKeys): HeaderList {
  const out: HeaderList = [];
  // An upstream may echo the key in a header as well as in a body, in its value or its name, plain or encoded
  // (header-keys.ts): it must never reach the application. A name holding it drops the header.
  if (keys && !keys.active()) keys = undefined;
  const hopOnly = connectionNamed(headers);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || NOT_PASSED.has(name) || name.startsWith(OWN_PREFIX) || hopOnly?.has(name)) continue;
    if (keys === undefined) out.push(name, value);
    else if (!keys.inName(name)) out.push(name, Array.isArray(value) ? value.map((one) => keys.value(one)) : keys.value(value));
  }
  if (tag) {
    out.push(ARM_HEADER, tag.arm);
    if (tag.fallback) out.push(FALLBACK_HEADER, 'true');
  }
  return out;
}

export function passHeaders(headers: HeaderMap, tag: AnswerTag | undefined, keys?: HeaderKeys): OutgoingHttpHeaders {
  const list = passedHeaderList(headers, tag, keys);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < list.length; i += 2) out[list[i] as string] = list[i + 1];
  return out;
}

// Request headers never sent upstream: the client's key, hop-by-hop ones, ones the proxy sets itself, and
// account selectors that belong with the upstream key, not the application's.
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'host',
  'authorization',
  'x-api-key',
  // The key headers of Azure OpenAI's and Google's SDKs: an application's key, whichever header carries it.
  'api-key',
  'x-goog-api-key',
  'cookie',
  'accept-encoding',
  'accept',
  'content-type',
  // The body sent is the proxy's (re-serialised for an arm), plain JSON whatever the application's said.
  'content-encoding',
  'expect',
  'openai-organization',
  'openai-project',
  // Azure API Management's (and Azure AI services') key header: an application's key too. And the key headers of
  // other gateways an application may have been set up for (Helicone, Portkey, Cloudflare AI Gateway, LiteLLM):
  // that gateway's secret, not the upstream's (review33).
  'ocp-apim-subscription-key',
  'helicone-auth',
  'x-portkey-api-key',
  'cf-aig-authorization',
  'x-litellm-api-key',
  // Headers a gateway may route or attribute a request by: a client naming another method, path, host or origin
  // for a request the upstream sees as the operator's (x-forwarded-* are dropped by prefix, below).
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-original-host',
  'x-host',
  'x-envoy-original-path',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
]);
const FORWARDED_PREFIX = 'x-forwarded-';

/** Whether an application header (its name in lower case, as Node gives it) is never sent upstream. */
function notForwarded(name: string): boolean {
  if (NOT_FORWARDED.has(name)) return true;
  // The dropped prefixes by their first letter: most names start with neither, and cost one look.
  const first = name.charCodeAt(0);
  if (first === 0x78 /* x */) return name.startsWith(OWN_PREFIX) || name.startsWith(FORWARDED_PREFIX);
  return first === 0x70 /* p */ && name.startsWith('proxy-');
}

/** No application header to pass on: one shared object (forwardTo sends the target's headers as they are). */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The application's headers worth passing on (anthropic-version, betas, SDK metadata); NO_HEADERS when none is.
 * One holding a client key (`clientKeys`), whatever its name, is dropped: a client key is never forwarded.
 */
export function forwardedHeaders(headers: IncomingHttpHeaders, clientKeys?: ClientKeyHeaders): Readonly<Record<string, string>> {
  let out: Record<string, string> | undefined;
  const hopOnly = connectionNamed(headers);
  for (const name in headers) {
    if (notForwarded(name) || hopOnly?.has(name)) continue;
    const raw = headers[name];
    const value = typeof raw === 'string' ? raw : Array.isArray(raw) ? raw.join(', ') : undefined;
    if (value !== undefined && !clientKeys?.holds(value)) (out ??= {})[name] = value;
  }
  return out ?? NO_HEADERS;
}

/**
 * A redirect is never passed on to the application: no LLM API redirects a request, and a client following one
 * would send its prompt (or key) wherever Location says. Chat and model-list answers both check this.
 */
export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

export function sendError(res: ServerResponse, inbound: InboundDialect, kind: ProxyErrorKind, message: string, extra: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  const reply = inbound.error(kind, message);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply.body), ...extra });
  res.end(reply.body);
}

export function sendBody(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer | string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** What a streamed answer needs to keep upstream keys from the client (src/proxy/targets.ts builds it once). */
export interface KeyGuard {
  redactor: Redactor;
  /** The keys as answer headers may carry them (names and encodings included). */
  headerKeys: HeaderKeys;
  /** Whether a whole answer's text (answer-text.ts) may quote an upstream key, in any spelling. */
  mayQuoteKey(text: string): boolean;
  /** Catches a key split across chunks (src/proxy/split-key.ts). */
  splitKeys: SplitKeys;
}

/**
 * A streamed answer written through to the client. A chunk quoting an upstream key (an echoing relay), or ending
 * with a key's start, goes through a SplitKeyStream: the key is redacted, and a tail of at least HOLD_FROM
 * characters of a key is held back until the next chunk, so a key split across chunks is caught too.
 */
export function responseSink(res: ServerResponse, tag: AnswerTag, keys: KeyGuard): ClientSink {
  return new ResponseSink(res, tag, keys);
}

// A class rather than an object of closures: one allocation per answer on the hot path.
class ResponseSink implements ClientSink {
  /** Made at the first chunk that ends with a key's start; never for most answers. */
  private split?: SplitKeyStream;

  constructor(
    private readonly res: ServerResponse,
    private readonly tag: AnswerTag,
    private readonly keys: KeyGuard,
  ) {}

  begin(status: number, headers: HeaderMap): void {
    this.res.writeHead(status, passedHeaderList(headers, this.tag, this.keys.headerKeys));
  }

  write(chunk: Buffer, waiter: { drained(): void }): boolean {
    const { keys } = this;
    const out = this.split !== undefined || keys.splitKeys.needsCare(chunk) ? (this.split ??= keys.splitKeys.stream()).pass(chunk) : chunk;
    // All of it held back (the start of a key): nothing to wait for.
    if (out.length === 0) return true;
    const ok = this.res.write(out);
    if (!ok) this.res.once('drain', () => waiter.drained());
    return ok;
  }

  flush(): void {
    // Node corks the socket at a response's write and uncorks it on a tick queued then, which may come after other
    // work queued before it (Forwarding.runDueTimers calls this first, then sets the stream's timers). Uncorked
    // now; Node's own uncork then finds nothing to do. A cork of another kind (more than Node's one) is left alone.
    const socket = this.res.socket;
    if (socket !== null && socket.writableCorked === 1) socket.uncork();
  }

  end(): void {
    const held = this.split?.finish();
    if (held) this.res.end(held);
    else this.res.end();
  }

  cut(): void {
    // Held-back bytes (a key's start) are dropped. Destroyed, not ended: the client sees a broken stream rather
    // than an answer that looks whole.
    this.split = undefined;
    this.res.destroy();
  }

  whole(response: UnsentResponse): void {
    sendWhole(this.res, response, this.tag, this.keys);
  }
}

/**
 * A whole answer as the upstream gave it, tagged with the arm. Error bodies are small and may echo what was
 * sent: the upstream keys are cut out. Answers pass as they are unless they quote a key too (an echoing relay).
 */
export function sendWhole(res: ServerResponse, response: UnsentResponse, tag: AnswerTag, keys: KeyGuard): void {
  const success = response.status >= 200 && response.status < 300;
  const body = success && !keys.mayQuoteKey(response.text ?? answerText(response.body)) ? response.body : keys.redactor.text(response.body.toString('utf8'));
  if (res.headersSent || res.destroyed) return;
  // The list is ours: the length is added to it rather than to a copy.
  const headers = passedHeaderList(response.headers, tag, keys.headerKeys);
  headers.push('content-length', String(Buffer.byteLength(body)));
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * An answer whose bytes are still queued when it ended (the client is not reading them) is cut after `ms`
 * (proxy.limits.body_timeout, the time a client has to send its request, given as well to take its answer):
 * otherwise a client could hold the answer's memory and its connection as long as it liked. An answer that
 * went out whole costs one look.
 */
export function cutIfNotTaken(res: ServerResponse, ms: number): void {
  if (res.destroyed || res.writableFinished || (res.socket?.writableLength ?? 0) === 0) return;
  const timer = setTimeout(() => res.destroy(), ms);
  res.once('close', () => clearTimeout(timer));
}

/** How long a half-closed connection is still read (nginx's lingering_timeout is 5 s) before it is reset. */
export const LINGER_MS = 5_000;

/**
 * The end of a connection the proxy will not read on: its last bytes (an answer written straight to the socket),
 * FIN, then a reset after `ms` if the client has not closed its side. Not a reset at once: one could reach the
 * client before it read its answer (seen in CI as a 413 never arriving), or while it is still sending. Not left
 * open either: a client that never closes (slowloris past header_timeout) kept the socket, and its place under
 * max_connections, for good (hostile21: 100 such connections held 100 descriptors 80 s after their 408).
 */
export function lingerClose(socket: Duplex, last?: string, ms = LINGER_MS): void {
  if (last === undefined) socket.end();
  else socket.end(last);
  // Read, and dropped: a socket nothing reads any more (a CONNECT's: Node's parser let it go) filled up, its client's
  // write never finished, and the reset at the linger's end failed it (EPIPE) with the answer maybe unread. Read, the
  // client's FIN is seen too, and the connection closes then.
  socket.resume();
  const reset = setTimeout(() => socket.destroy(), ms);
  socket.once('close', () => clearTimeout(reset));
}

/** What Node's HTTP parser refused before there was a request to answer, as a refusal the client can act on. */
export interface ClientRefusal {
  kind: 'bad_request' | 'slow_client' | 'too_large' | 'headers_too_large';
  status: number;
  message: string;
}

/** A connection opening with HTTP/2's preface (`PRI * HTTP/2.0`: HTTP/2 with prior knowledge, no upgrade asked). */
export const HTTP2_REFUSED =
  'this server speaks HTTP/1.1 only: the request opened with the HTTP/2 preface (PRI * HTTP/2.0, HTTP/2 with prior knowledge), which it does not serve; send HTTP/1.1 (the OpenAI and Anthropic SDKs do)';

/** The refusal for a clientError: too slow (408), headers (431) or a chunk extension (413) too large, or unparsable (400). */
function clientRefusal(error: NodeJS.ErrnoException & { reason?: unknown }, timeoutMessage: string): ClientRefusal {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { kind: 'slow_client', status: 408, message: timeoutMessage };
    case 'HPE_HEADER_OVERFLOW':
      return { kind: 'headers_too_large', status: 431, message: `the request headers are over ${maxHeaderSize} bytes, the most this server reads` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { kind: 'too_large', status: 413, message: "the body's chunk extensions are too large" };
    // llhttp's reason here ("Pause on PRI/Upgrade") named none of it: curl --http2-prior-knowledge, a gRPC client.
    case 'HPE_PAUSED_H2_UPGRADE':
      return { kind: 'bad_request', status: 400, message: HTTP2_REFUSED };
    default: {
      // llhttp's reasons are fixed phrases ("Invalid header value char"), never the request's bytes.
      const reason = typeof error.reason === 'string' ? error.reason : (error.code ?? 'unreadable');
      return { kind: 'bad_request', status: 400, message: `the request is not valid HTTP/1.1 (${oneLine(reason, 100)})` };
    }
  }
}

/**
 * Whether an answer to another request is in flight on this connection (Node's _httpMessage: the answer being
 * written, or awaited from the upstream with its headers not out yet). Another answer written now would land in the
 * middle of it, or go out first and be read as its answer; Node's own clientError answer checks only for headers
 * already sent. An answer not begun to a request still being read is not another's: the parser failed in that
 * request's own body (a bad chunk size line), and the refusal is its answer.
 */
function otherAnswerInFlight(socket: Duplex): boolean {
  const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  return res != null && (res.headersSent || res.req.complete);
}

/**
 * Whether the request whose body the parser failed in was answered in full already (a model list, answered without
 * reading its body): no answer is in flight, yet a request is still being read. A second answer to it would be read
 * by its client as the answer to its next request on the connection.
 */
function ownAnswerGone(socket: Duplex): boolean {
  const { _httpMessage: res, parser } = socket as Duplex & { _httpMessage?: ServerResponse | null; parser?: { incoming?: IncomingMessage | null } | null };
  const reading = parser?.incoming;
  return res == null && reading != null && !reading.complete;
}

/**
 * Answers a clientError (Node's parser refused what arrived) with `reply`'s JSON, `connection: close`, and a
 * lingering close. When an answer to another request is in flight on the connection (a pipelined request behind it
 * was malformed), the connection is cut instead: a second answer in the middle of the first would corrupt the stream
 * its client is reading, and one before it (the first's headers not out yet) would be read as the first request's
 * answer. A request whose own body was malformed is answered: what it started upstream (a model list's request) is
 * cancelled when the connection closes after the answer, as for any client gone (client-link.ts), and its unread
 * body ends as aborted (intake.ts). One answered in full already (a model list's) gets no second answer: its
 * connection closes. Returns the refusal answered, if one was.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  reply: (refusal: ClientRefusal) => ProxyErrorReply,
  timeoutMessage: string,
): ClientRefusal | undefined {
  // Answered already, and lingering: Node's parser reports its error again for each later read.
  if (socket.writableEnded && !socket.destroyed) return undefined;
  if (error.code === 'ECONNRESET' || !socket.writable || otherAnswerInFlight(socket)) return void socket.destroy();
  // Closed without a word, lingering so the answer already sent is not lost to a reset.
  if (ownAnswerGone(socket)) return void lingerClose(socket);
  const refusal = clientRefusal(error, timeoutMessage);
  answerOnSocket(socket, reply(refusal));
  return refusal;
}

/**
 * An error answer written straight to a connection Node's HTTP server no longer parses (a CONNECT, a clientError),
 * then its lingering close.
 */
export function answerOnSocket(socket: Duplex, { status, body }: ProxyErrorReply): void {
  if (!socket.writable) return void socket.destroy();
  lingerClose(
    socket,
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
