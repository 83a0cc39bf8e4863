// Server-sent events read from a stream's text as it arrives: the events eventsource-parser gives (its rules,
// test/upstream/event-stream.test.ts checks them against it), at less cost a stream. One object rather than a
// parser of closures, and one message object for all of a stream's events rather than one an event: a stream
// reader takes what it reads from the message during the call and keeps nothing of it.
import type { EventSourceMessage } from 'eventsource-parser';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;

/** Where the line that starts at `from` ends (a CR, an LF); -1 while it is unfinished (a CR last may begin a CRLF). */
function lineEnd(text: string, from: number): number {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  if (cr < 0) return lf;
  if (lf >= 0) return cr < lf ? cr : lf;
  return cr === text.length - 1 ? -1 : cr;
}

/** Whether the line at `at` starts with `name` and a colon (`data:`, `event:`, `id:`). */
function fieldIs(text: string, at: number, name: string): boolean {
  const n = name.length;
  if (text.charCodeAt(at + n) !== COLON) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(at + i) !== name.charCodeAt(i)) return false;
  return true;
}

export class EventStreamParser {
  private first = true;
  /** The end of the text fed so far that is not a whole line yet. */
  private rest = '';
  private data = '';
  private dataLines = 0;
  private type: string | undefined;
  private id: string | undefined;
  /** Handed to `onEvent` for every event, its fields set anew: valid during the call only. */
  private readonly message: EventSourceMessage = { id: undefined, event: undefined, data: '' };

  constructor(private readonly onEvent: (message: EventSourceMessage) => void) {}

  feed(chunk: string): void {
    let text = chunk;
    if (this.first) {
      this.first = false;
      // A UTF-8 byte order mark read as Latin-1 (eventsource-parser drops it so).
      if (text.charCodeAt(0) === 0xef && text.charCodeAt(1) === 0xbb && text.charCodeAt(2) === 0xbf) text = text.slice(3);
    }
    if (this.rest !== '') {
      if (text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
        this.rest += text;
        return;
      }
      text = this.rest + text;
    }
    this.rest = this.lines(text);
  }

  /** Reads the whole lines of `text`: what is left after them. */
  private lines(text: string): string {
    let start = 0;
    if (text.indexOf('\r') < 0) {
      // Most streams end their lines with LF alone: one search a line.
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        this.line(text, start, end);
        start = end + 1;
      }
    } else {
      for (let end = lineEnd(text, 0); end >= 0; end = lineEnd(text, start)) {
        this.line(text, start, end);
        start = end + 1;
        if (text.charCodeAt(end) === CR && text.charCodeAt(start) === LF) start++;
      }
    }
    return start === 0 ? text : text.slice(start);
  }

  private line(text: string, start: number, end: number): void {
    if (start === end) return this.dispatch();
    const c = text.charCodeAt(start);
    if (c === COLON) return;
    if (c === 0x64 && fieldIs(text, start, 'data')) return this.addData(text.slice(valueStart(text, start + 5), end));
    if (c === 0x65 && fieldIs(text, start, 'event')) {
      this.type = text.slice(valueStart(text, start + 6), end) || undefined;
      return;
    }
    if (c === 0x69 && fieldIs(text, start, 'id')) return this.setId(text.slice(valueStart(text, start + 3), end));
    // A field name without a colon has an empty value; other fields (retry, unknown ones) mean nothing here.
    const colon = text.indexOf(':', start);
    if (colon >= 0 && colon < end) return;
    const field = text.slice(start, end);
    if (field === 'data') this.addData('');
    else if (field === 'event') this.type = undefined;
    else if (field === 'id') this.setId('');
  }

  private addData(value: string): void {
    this.data = this.dataLines === 0 ? value : `${this.data}\n${value}`;
    this.dataLines++;
  }

  private setId(value: string): void {
    if (!value.includes('\0')) this.id = value;
  }

  /** A blank line: the event so far, when it has data, goes out; the next one starts empty. */
  private dispatch(): void {
    if (this.dataLines > 0) {
      const message = this.message;
      message.id = this.id;
      message.event = this.type;
      message.data = this.data;
      this.onEvent(message);
    }
    this.id = undefined;
    this.type = undefined;
    this.data = '';
    this.dataLines = 0;
  }
}

/** Where a field's value starts: after the colon at `at - 1`, and one space when there is one. */
function valueStart(text: string, at: number): number {
  return text.charCodeAt(at) === SPACE ? at + 1 : at;
}
