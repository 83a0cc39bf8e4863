// A green stream's start, held back with its headers until its first event has arrived whole, while blue can still
// answer for green. Sent on as it came, any byte would commit the client to green: an error event split over chunks
// (`data: ` first, then its JSON) would reach the client instead of falling back, and so would one that follows SSE
// comments (OpenRouter's `: OPENROUTER PROCESSING` while the provider has not produced its first token). Held bytes
// are bounded by maxBytes; upstream.timeout.request bounds the wait (they are not the stream's first body bytes).
// A format whose streams open with events that carry no output (the Responses API's response.created and
// response.in_progress, Anthropic's message_start, named by `event:` lines) is held past those too: its failure
// comes after them.

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
/** Longest `event:` line read for its name: longer names are no leading event's. */
const MAX_NAME_LINE = 64;

/** Where the scan is in the current line. */
const enum Line {
  Start,
  Comment,
  Field,
}

/** No chunk held: one shared empty list, not a new one for each stream's first chunk. */
export const NO_CHUNKS: readonly Buffer[] = Object.freeze([]);

export class FirstEventHold {
  private chunks?: Buffer[];
  private size = 0;
  private line = Line.Start;
  /** The current event has a field line (`data:`, `event:`…): a blank line now ends it. */
  private sawField = false;
  /** The last byte was a CR: an LF right after it ends the same line. */
  private afterCR = false;
  /** With leading events: the start of the current field line (enough to hold `event: ` and a name). */
  private lineText = '';
  /** With leading events: the current event's `event:` name. */
  private eventName = '';

  constructor(
    private readonly maxBytes: number,
    /** Event names (`event:` lines) that do not count as the first event; none for chat streams. */
    private readonly leading?: ReadonlySet<string>,
  ) {}

  /**
   * Holds `chunk` and says true while the first event is not whole, the held bytes within maxBytes. False when the
   * chunk completes it (or would hold too much): the caller goes on with held() and then the chunk.
   */
  holds(chunk: Buffer): boolean {
    if (this.completedBy(chunk) || this.size + chunk.length > this.maxBytes) return false;
    (this.chunks ??= []).push(chunk);
    this.size += chunk.length;
    return true;
  }

  /**
   * Reads `chunk` without holding it: whether it completes the first event that counts. A stream whose format opens
   * with leading events uses it to know when its output began (forwarding.ts: the wait before it is timed as a
   * first byte's, and a client leaving before it has not been answered).
   */
  completes(chunk: Buffer): boolean {
    return this.completedBy(chunk);
  }

  /** The chunks held, in order. */
  held(): readonly Buffer[] {
    return this.chunks ?? NO_CHUNKS;
  }

  /** Reads on from where the last chunk left off: whether a blank line ends an event with a field in this chunk. */
  private completedBy(chunk: Buffer): boolean {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (this.afterCR) {
        this.afterCR = false;
        if (byte === LF) continue;
      }
      if (byte === LF || byte === CR) {
        this.afterCR = byte === CR;
        if (this.line === Line.Start && this.sawField) {
          if (!this.leading?.has(this.eventName)) return true;
          // A leading event: the next one may be the first that counts.
          this.sawField = false;
          this.eventName = '';
        }
        if (this.leading && this.line === Line.Field) this.endField();
        this.line = Line.Start;
      } else if (this.line === Line.Start) {
        this.line = byte === COLON ? Line.Comment : Line.Field;
        if (this.line === Line.Field) this.sawField = true;
        if (this.leading) this.lineText = String.fromCharCode(byte as number);
      } else if (this.leading && this.line === Line.Field && this.lineText.length < MAX_NAME_LINE) {
        this.lineText += String.fromCharCode(byte as number);
      }
    }
    return false;
  }

  /** A field line ended: an `event:` line names the event (SSE drops one space after the colon). */
  private endField(): void {
    const text = this.lineText;
    this.lineText = '';
    if (!text.startsWith('event:')) return;
    this.eventName = text.slice(text.charCodeAt(6) === 0x20 ? 7 : 6);
  }
}
