// A green stream's start, held back with its headers until its first event has arrived whole, while blue can still
// answer for green. Sent on as it came, any byte would commit the client to green: an error event split over chunks
// (`data: ` first, then its JSON) would reach the client instead of falling back, and so would one that follows SSE
// comments (OpenRouter's `: OPENROUTER PROCESSING` while the provider has not produced its first token). Held bytes
// are bounded by maxBytes; upstream.timeout.request bounds the wait (they are not the stream's first body bytes).

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/** Where the scan is in the current line. */
const enum Line {
  Start,
  Comment,
  Field,
}

export class FirstEventHold {
  private chunks?: Buffer[];
  private size = 0;
  private line = Line.Start;
  /** The current event has a field line (`data:`, `event:`…): a blank line now ends it. */
  private sawField = false;
  /** The last byte was a CR: an LF right after it ends the same line. */
  private afterCR = false;

  constructor(private readonly maxBytes: number) {}

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

  /** The chunks held, in order. */
  held(): readonly Buffer[] {
    return this.chunks ?? [];
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
        if (this.line === Line.Start && this.sawField) return true;
        this.line = Line.Start;
      } else if (this.line === Line.Start) {
        this.line = byte === COLON ? Line.Comment : Line.Field;
        if (this.line === Line.Field) this.sawField = true;
      }
    }
    return false;
  }
}
