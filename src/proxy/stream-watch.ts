// Reads a streamed answer as it passes through the proxy, without holding it back: time to first token, and at
// the end the reply (content, finish reason, usage, tools) or why the stream was bad. The bytes themselves go to
// the client untouched; this only watches them.
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { charsAfterLineBreak, eventTooLong, textCapped } from '../upstream/answer-limit.js';
import type { ParseOutcome, StreamReader } from '../upstream/dialect.js';
import { SseParser, type SseEvent, type SseSink } from '../upstream/sse-parser.js';
import { errorText } from '../core/errors.js';

/** The setting that bounds what a stream's reading holds, named in its errors. */
const LIMIT = 'proxy.limits.max_response_bytes';

export class StreamWatch implements SseSink {
  /**
   * Made at the stream's first chunk that is not all ASCII, and used from then on: UTF-8 decoded across chunk
   * boundaries (StringDecoder, a third of TextDecoder's cost). Until then every chunk ended on a whole character,
   * so the decoder would hold nothing and decode each as it is: ASCII is copied as Latin-1, byte for character
   * (about two thirds of the UTF-8 decoding's time on the bench stream), and most streams need no decoder at all.
   */
  private decoder?: StringDecoder;
  /**
   * The event parser and the dialect's reader, made at the first read: for a stream passed at once that is after
   * its first write (feedAfterWrite), so making them (a capped reader, its error text) is not part of the
   * client's wait for its first byte.
   */
  private parser?: SseParser;
  private reader?: StreamReader;
  private done = false;
  private error?: string;
  /** Characters since the last line break: the parser holds them until the line ends. */
  private pending = 0;
  /** The first chunk written to the client and not read yet (feedAfterWrite): most turns write one, kept without an array. */
  private unread?: Buffer;
  /** Chunks written after it in the same turn, not read yet. */
  private unreadMore?: Buffer[];
  /** When the first output (text, a tool call, reasoning) passed (ms on the steady clock `steadyNow`). */
  firstTokenAt?: number;

  constructor(
    /** Makes the dialect's reader for this stream (ForwardTarget.streamReader: one that shares the upstream's spellings). */
    private readonly makeReader: () => StreamReader,
    private readonly steadyNow: () => number,
    /** Longest line the parser may hold, and most text the reader may: past either the stream is bad and no longer read (the bytes still pass). */
    private readonly maxLine = Infinity,
    /** Told the stream's response id as soon as an event names it (before the client can continue it). */
    private readonly onResponseId?: (id: string) => void,
  ) {}

  private startReading(): SseParser {
    this.reader = textCapped(this.makeReader(), this.maxLine, LIMIT);
    return new SseParser(this, this.maxLine);
  }

  /** The parser's: one event of the stream. */
  onEvent(event: SseEvent): void {
    // Past the terminator or an error nothing more is judged (the bytes still pass).
    if (this.done || this.error !== undefined) return;
    const step = (this.reader as StreamReader).event(event);
    // Text, or output of another kind (a tool call, reasoning), as the traffic path times it.
    if (this.firstTokenAt === undefined && (step.delta || step.output)) this.firstTokenAt = this.steadyNow();
    if (step.error !== undefined) this.error = step.error;
    if (step.done) this.done = true;
    if (step.responseId !== undefined) this.onResponseId?.(step.responseId);
  }

  /** The parser's: an event's data (or a line) grew past the bound. */
  onTooLong(bound: number): void {
    this.error ??= eventTooLong(bound, LIMIT);
  }

  feed(chunk: Buffer): void {
    if (this.done || this.error !== undefined) return;
    // A byte order mark starting the stream is the parser's to drop (it is no line's characters: counted here, one at most).
    const text = this.decoder === undefined && isAscii(chunk) ? chunk.toString('latin1') : (this.decoder ??= new StringDecoder('utf8')).write(chunk);
    const after = charsAfterLineBreak(text);
    this.pending = after < 0 ? this.pending + text.length : after;
    if (this.pending > this.maxLine) {
      this.error = `a stream line is longer than ${this.maxLine} characters (${LIMIT})`;
      return;
    }
    this.parse(text);
  }

  /** Parses `text`, or with none the stream's end. */
  private parse(text?: string): void {
    try {
      const parser = (this.parser ??= this.startReading());
      if (text === undefined) parser.end();
      else parser.feed(text);
    } catch (error) {
      // Read after the write, on a tick of its own (readWritten): a throw there would end the whole proxy.
      this.error = `the stream could not be read: ${errorText(error)}`;
    }
  }

  /**
   * Keeps a chunk just written to the client, to be read by readWritten() once its bytes have gone (the caller
   * says when: src/proxy/forwarding.ts, on the tick that flushes them), or by end(). Chunks keep their order.
   */
  feedAfterWrite(chunk: Buffer): void {
    if (this.unread === undefined) this.unread = chunk;
    else if (this.unreadMore) this.unreadMore.push(chunk);
    else this.unreadMore = [chunk];
  }

  /** Reads the chunks kept by feedAfterWrite, in order. */
  readWritten(): void {
    const first = this.unread;
    if (first === undefined) return;
    const more = this.unreadMore;
    this.unread = this.unreadMore = undefined;
    this.feed(first);
    if (more) for (const chunk of more) this.feed(chunk);
  }

  /** The error event the stream carried so far, if any. */
  get failure(): string | undefined {
    return this.error;
  }

  /** The stream's terminator was read (`data: [DONE]`, message_stop, response.completed). */
  get ended(): boolean {
    return this.done;
  }

  /**
   * Why the stream read so far is no answer although nothing more can make it one: its terminator came (a green
   * opening with `data: [DONE]` alone), and the reader's finish says it is bad. Undefined while it may still be
   * one. Read at the first event, while blue can still answer for it (forwarding.ts).
   */
  endedBadly(): string | undefined {
    if (!this.done || this.error !== undefined) return undefined;
    const outcome = (this.reader as StreamReader).finish();
    return outcome.ok ? undefined : outcome.reason;
  }

  /** The body ended: the reply, or why the stream does not count as an answer. */
  end(): ParseOutcome {
    this.readWritten();
    // A last event without its blank line still counts.
    if (!this.done && this.error === undefined) this.parse();
    if (this.error !== undefined) return { ok: false, reason: this.error };
    // parse() made the reader, or set the error.
    return (this.reader as StreamReader).finish();
  }
}

/** What reads a 2xx answer on its way to the client: a StreamWatch, or UNREAD for an answer passed unread. */
export type AnswerReading = Pick<StreamWatch, 'feed' | 'feedAfterWrite' | 'readWritten' | 'failure' | 'ended' | 'endedBadly' | 'end' | 'firstTokenAt'>;

export const UNREAD: AnswerReading = Object.freeze({
  feed: () => undefined,
  feedAfterWrite: () => undefined,
  readWritten: () => undefined,
  failure: undefined,
  ended: false,
  endedBadly: () => undefined,
  end: () => ({ ok: true as const, reply: { content: '' } }),
  firstTokenAt: undefined,
});
