// A text file's bytes decoded as UTF-8, or where they are not text: the first NUL byte (a binary file) or the first
// byte that is not well-formed UTF-8 (a Latin-1 file would otherwise read as U+FFFD), by line and column. One reader
// for every text file the operator hands over (a plan, a prompts file).

/** Where a file's bytes stop being UTF-8 text: line and column are 1-based, the column in bytes. */
export interface NotText {
  kind: 'nul' | 'utf8';
  line: number;
  col: number;
  /** The offending byte. */
  byte: number;
}

/** The text of `bytes`, or where they are not UTF-8 text. */
export function decodeText(bytes: Buffer): string | NotText {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { kind: 'nul', ...position(bytes, nul), byte: 0 };
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    return { kind: 'utf8', ...position(bytes, offset), byte: bytes[offset] ?? 0 };
  }
}

/** Line and column (1-based, in bytes) of a byte offset. */
function position(bytes: Buffer, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (0 when not found). */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    const extra = lead < 0x80 ? 0 : lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : -1;
    if (extra < 0) return i;
    for (let k = 1; k <= extra; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += extra + 1;
  }
  return 0;
}
