// Server-sent events as the stream readers need them: each event's data (its data lines joined) and type. Read
// by the proxy for every streamed answer passing it, so it allocates only what it hands on: no object per
// event (one message, refilled), no closures per stream, a data line's value sliced from the text fed. The rules
// are the WHATWG's (lines end with LF, CRLF or CR; one space after the colon dropped; comments and unknown
// fields skipped; an event with no data line is no event; a byte order mark starting the stream dropped; a field
// split at its first colon only), less what no reader uses: ids and retry.

/** One event. The parser refills the same object for each: a sink reads it during onEvent, never keeps it. */
export interface SseEvent {
  /** The `event:` field, when the event had one. */
  event?: string;
  /** The data lines' values, joined by LF. */
  data: string;
}

export interface SseSink {
  onEvent(event: SseEvent): void;
  /** What the parser holds (a line not ended, an event's data not ended) passed its bound: it reads no more. */
  onTooLong(bound: number): void;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = 0xfeff;

export class SseParser {
  private readonly message: SseEvent = { event: undefined, data: '' };
  /** The text of a line not ended yet, held for the next feed. */
  private rest = '';
  /** The last feed ended with a CR: an LF starting the next is the same line break (CRLF split between feeds). */
  private afterCr = false;
  /** No character was fed yet: a byte order mark starting the stream is not part of its first line. */
  private atStart = true;
  private data = '';
  private dataLines = 0;
  private type: string | undefined;
  private stopped = false;

  constructor(
    private readonly sink: SseSink,
    /** Most characters held of a line or an event not ended yet (an upstream never ending either grew them without end). */
    private readonly maxHeld = Infinity,
  ) {}

  feed(chunk: string): void {
    if (this.stopped) return;
    let text = chunk;
    if (this.atStart && text !== '') {
      this.atStart = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    if (this.afterCr) {
      this.afterCr = false;
      if (text.charCodeAt(0) === LF) text = text.slice(1);
    }
    if (this.rest !== '') {
      // A line going on without a break is only added to (searched once it ends: no search of it per feed).
      if (text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
        this.rest += text;
        if (this.rest.length + this.data.length > this.maxHeld) this.stop();
        return;
      }
      text = this.rest + text;
      this.rest = '';
    }
    let at = 0;
    if (text.indexOf('\r') < 0) {
      // The usual stream: LF only.
      for (let lf = text.indexOf('\n'); lf >= 0 && !this.stopped; lf = text.indexOf('\n', at)) {
        this.line(text, at, lf);
        at = lf + 1;
      }
    } else {
      while (at < text.length && !this.stopped) {
        const end = lineEnd(text, at);
        if (end < 0) break;
        this.line(text, at, end);
        at = end + 1;
        if (text.charCodeAt(end) === CR) {
          if (at === text.length) this.afterCr = true;
          else if (text.charCodeAt(at) === LF) at++;
        }
      }
    }
    if (this.stopped) return;
    if (at < text.length) this.rest = at === 0 ? text : text.slice(at);
    if (this.rest.length + this.data.length > this.maxHeld) this.stop();
  }

  /** The stream ended: a last event without its blank line still counts (a line not ended is ended first). */
  end(): void {
    this.feed('\n\n');
  }

  private stop(): void {
    this.stopped = true;
    this.rest = this.data = '';
    this.sink.onTooLong(this.maxHeld);
  }

  private line(text: string, start: number, end: number): void {
    if (start === end) return this.dispatch();
    const first = text.charCodeAt(start);
    if (first === COLON) return;
    // data: and event: told by their characters (no slice of the field's name), the rest by name.
    if (first === 0x64 && end - start >= 5 && text.charCodeAt(start + 4) === COLON && text.startsWith('data', start))
      return this.addData(text.slice(valueStart(text, start + 5, end), end));
    if (first === 0x65 && end - start >= 6 && text.charCodeAt(start + 5) === COLON && text.startsWith('event', start))
      return this.setType(text.slice(valueStart(text, start + 6, end), end));
    const colon = text.indexOf(':', start);
    const name = colon < 0 || colon > end ? text.slice(start, end) : text.slice(start, colon);
    const value = colon < 0 || colon > end ? '' : text.slice(valueStart(text, colon + 1, end), end);
    if (name === 'data') this.addData(value);
    else if (name === 'event') this.setType(value);
    // id, retry and unknown fields: nothing reads them.
  }

  private addData(value: string): void {
    this.data = this.dataLines === 0 ? value : `${this.data}\n${value}`;
    this.dataLines++;
    if (this.data.length > this.maxHeld) this.stop();
  }

  private setType(value: string): void {
    this.type = value === '' ? undefined : value;
  }

  private dispatch(): void {
    if (this.dataLines > 0) {
      const message = this.message;
      message.event = this.type;
      message.data = this.data;
      this.sink.onEvent(message);
      message.data = '';
    }
    this.data = '';
    this.dataLines = 0;
    this.type = undefined;
  }
}

/** Where a field's value begins: after the colon, less one leading space. */
function valueStart(text: string, afterColon: number, end: number): number {
  return afterColon < end && text.charCodeAt(afterColon) === SPACE ? afterColon + 1 : afterColon;
}

/** The index of the CR or LF ending the line that starts at `from`, or -1 when the line has not ended. */
function lineEnd(text: string, from: number): number {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return cr < lf ? cr : lf;
}
