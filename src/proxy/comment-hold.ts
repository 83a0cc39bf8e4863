// SSE comment lines an upstream sends before a stream's first event (OpenRouter's `: OPENROUTER PROCESSING`, a
// `: keep-alive`), held back while blue can still answer for green: sent on, they would commit the client to
// green's stream, and a green failing before its first event (an error event, a cut) would reach the client
// instead of falling back. Comments carry nothing for the client; they go out just before the first event.

const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;

/** Whether a chunk can begin a run of comment or blank lines (one byte: most first chunks are `data:` or `event:`). */
export function mayBeComment(chunk: Buffer): boolean {
  const first = chunk[0];
  return first === COLON || first === LF || first === CR;
}

export class CommentHold {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** The held bytes end inside a comment line: the next chunk's first line goes on with it. */
  private inComment = false;

  constructor(private readonly maxBytes: number) {}

  /**
   * Keeps `chunk` and says true when it holds only comment lines (`:` first) and blank lines, going on from the
   * chunks held before, and the held bytes stay within maxBytes. False leaves it to the caller, held chunks too.
   */
  take(chunk: Buffer): boolean {
    if (this.size + chunk.length > this.maxBytes) return false;
    let inComment = this.inComment;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF || byte === CR) inComment = false;
      else if (!inComment) {
        if (byte !== COLON) return false;
        inComment = true;
      }
    }
    this.inComment = inComment;
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  /** The held chunks, in order. */
  held(): readonly Buffer[] {
    return this.chunks;
  }
}
