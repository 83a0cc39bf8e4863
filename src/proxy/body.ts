// Reads a request body with the size limit and the body timeout, without waiting past either.
import type { IncomingMessage } from 'node:http';

export type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'timeout' | 'aborted' | 'overloaded' };

/**
 * The bytes of the request bodies still on their way that one server holds at most: bodies are read outside
 * max_concurrency (a client trickling one must not hold a place), so without this their memory would be bounded only
 * by max_connections x max_body_bytes. A chunk past the budget ends its body's reading (`overloaded`). Slow bodies
 * hold few bytes: they cannot fill it without sending them.
 */
export class BodyBudget {
  private held = 0;

  constructor(private readonly limit: number) {}

  /** Takes `bytes` of the budget, or none and false when they would pass it. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }
}

// Chunks are merged every MERGE_EVERY: a body sent as millions of 1-byte chunks (chunked encoding allows it)
// would otherwise cost a Buffer object each, hundreds of bytes per body byte.
const MERGE_EVERY = 64;

/** `reading` is called once the body is going to be read (not when its content-length is already too large). */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number, reading?: () => void): Promise<BodyRead> {
  return new Promise((resolve) => readBodyThen(req, maxBytes, timeoutMs, resolve, reading, new BodyTimerCheck()));
}

/**
 * readBody() without a promise, for the proxy's hot path: `done` is called once. `check`: the timer check the
 * readers of one server share (one a turn of the event loop for all the bodies that began in it); `budget`, the
 * bytes their bodies may hold while on their way (given back when each is read, or not going to be).
 */
export function readBodyThen(
  req: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
  done: (read: BodyRead) => void,
  reading: (() => void) | undefined,
  check: BodyTimerCheck,
  budget?: BodyBudget,
): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return done({ ok: false, reason: 'too_large' });
  reading?.();
  check.add(new BodyReader(req, maxBytes, timeoutMs, done, budget).start());
}

/**
 * The body timer, set only for a body still on its way once the turn of the event loop it began in is over: a body
 * sent with its headers (most are) has ended by then, and costs no timer set and cleared on the request's way
 * upstream (a Node timer list made and dropped each time: microseconds of the proxy's latency). Node emits `request`
 * before it parses the rest of the packet, so the request event itself cannot tell. One immediate a turn for all the
 * readers begun in it, not one (with its arguments) a request: at thousands of requests a second, many share a turn.
 */
export class BodyTimerCheck {
  private readonly readers: BodyReader[] = [];

  private readonly run = (): void => {
    const { readers } = this;
    for (let i = 0; i < readers.length; i++) (readers[i] as BodyReader).armTimerIfReading();
    // Emptied, not replaced: the readers are not kept past their turn, and the array is made once.
    readers.length = 0;
  };

  add(reader: BodyReader): void {
    if (this.readers.push(reader) === 1) setImmediate(this.run);
  }
}

/** Where a request being read keeps its reader (BodyReader.start). */
const READER = Symbol('bluegreen.bodyReader');
type Read = IncomingMessage & { [READER]: BodyReader };

// The request's listeners, shared by every request (`this`: the request, as an emitter calls its listeners), which
// find its reader on it: not four closures a request.
function readerData(this: Read, chunk: Buffer): void {
  this[READER].onData(chunk);
}

function readerEnd(this: Read): void {
  this[READER].onEnd();
}

function readerGone(this: Read): void {
  this[READER].onGone();
}

function readerTimeout(reader: BodyReader): void {
  reader.onTimeout();
}

// One object per request, its listeners shared (above).
class BodyReader {
  private readonly merged: Buffer[] = [];
  private chunks: Buffer[] = [];
  private size = 0;
  /** Of `size`, the bytes taken from the budget. */
  private taken = 0;
  private finished = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
    private readonly done: (read: BodyRead) => void,
    private readonly budget: BodyBudget | undefined,
  ) {}

  /** Listens to the request; its timer is BodyTimerCheck's to set. */
  start(): this {
    const req = this.req as Read;
    req[READER] = this;
    req.on('data', readerData);
    req.on('end', readerEnd);
    req.on('error', readerGone);
    req.on('close', readerGone);
    return this;
  }

  /** Not read whole yet: the rest must come within `timeoutMs` (counted from the end of the request's first turn). */
  armTimerIfReading(): void {
    if (!this.finished) this.timer = setTimeout(readerTimeout, this.timeoutMs, this);
  }

  // The listeners stay on the request once it is read: each later event finds the reader finished and does
  // nothing. Taking four off cost more than that (removing an event's only listener deletes a property of the
  // emitter's table, which V8 then keeps as a slower dictionary for the request's later events).
  private finish(read: BodyRead): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    // Read or not, its bytes are no longer on their way: a body read is held by a request served (max_concurrency).
    this.budget?.give(this.taken);
    this.done(read);
  }

  onData(chunk: Buffer): void {
    // Past the end of the reading (too large, too slow): the rest is discarded, not kept (src/proxy/discard.ts).
    if (this.finished) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) return this.finish({ ok: false, reason: 'too_large' });
    if (this.budget) {
      if (!this.budget.take(chunk.length)) return this.finish({ ok: false, reason: 'overloaded' });
      this.taken += chunk.length;
    }
    this.chunks.push(chunk);
    if (this.chunks.length === MERGE_EVERY) {
      this.merged.push(Buffer.concat(this.chunks));
      this.chunks = [];
    }
  }

  onEnd(): void {
    if (this.finished) return;
    const all = this.merged.length === 0 ? this.chunks : [...this.merged, ...this.chunks];
    this.finish({ ok: true, body: all.length === 1 ? (all[0] as Buffer) : Buffer.concat(all) });
  }

  onGone(): void {
    this.finish({ ok: false, reason: 'aborted' });
  }

  onTimeout(): void {
    this.finish({ ok: false, reason: 'timeout' });
  }
}
