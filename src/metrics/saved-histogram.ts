// A stage x arm's latency histogram as state.json keeps it for `rollout --resume`: HdrHistogram's compressed
// base64 (its V2 encoding, deflated), a few hundred bytes to a few KB however many requests it holds. One is read
// back only when it is exactly what bluegreen writes (1 µs to 1 h, 3 digits, the saved count): a hand-edited or
// corrupt one is refused with the reason, before anything of its size is allocated, and never throws.
import { inflateSync } from 'node:zlib';
import { decodeFromCompressedBase64, JsHistogram } from 'hdr-histogram-js';
import { HIGHEST_MICROS } from './range.js';

/** The V2 compressed encoding's cookie, its word-size bits masked. */
const COMPRESSED_COOKIE = 0x1c849304;
const HEADER_BYTES = 40;
/** Far above what a 1 µs..1 h, 3-digit histogram encodes to (23,552 counts, ~5 KB at 100k requests). */
const MAX_TEXT_CHARS = 256 * 1024;
/** Each of the 23,552 counts takes at most 9 bytes encoded: a larger payload is not ours (or a deflate bomb). */
const MAX_INFLATED_BYTES = HEADER_BYTES + 23_552 * 9;

/** The histogram, or why it is not one this bluegreen wrote with `count` values in it. */
export function readSavedHistogram(text: unknown, count: number): JsHistogram | string {
  if (typeof text !== 'string' || text.length > MAX_TEXT_CHARS || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return 'not a base64 text of a sensible size';
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 8 || (bytes.readInt32BE(0) & ~0xf0) >>> 0 !== COMPRESSED_COOKIE) return 'not a compressed HdrHistogram (V2)';
  const compressed = bytes.readInt32BE(4);
  if (compressed <= 0 || 8 + compressed > bytes.length) return 'its compressed length is wrong';
  let inflated: Buffer;
  try {
    inflated = inflateSync(bytes.subarray(8, 8 + compressed), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    return 'it does not inflate (corrupt, or too large)';
  }
  if (inflated.length < HEADER_BYTES) return 'its header is cut short';
  const payload = inflated.readInt32BE(4);
  const digits = inflated.readInt32BE(12);
  const lowest = inflated.readBigInt64BE(16);
  const highest = inflated.readBigInt64BE(24);
  if (payload < 0 || HEADER_BYTES + payload > inflated.length) return 'its payload length is wrong';
  if (digits !== 3 || lowest !== 1n || highest !== BigInt(HIGHEST_MICROS)) return 'its range or precision is not the one bluegreen records with';
  let histogram: unknown;
  try {
    histogram = decodeFromCompressedBase64(text);
  } catch {
    return 'it does not decode';
  }
  if (!(histogram instanceof JsHistogram)) return 'it does not decode';
  if (histogram.totalCount !== count) return `it holds ${histogram.totalCount} values, not the ${count} saved beside it`;
  return histogram;
}
