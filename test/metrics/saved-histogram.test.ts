// The latency histograms state.json keeps for rollout --resume: read back exactly, and a hand-edited or corrupt
// one refused with its reason (never thrown, never allocated at an edited size).
import { deflateSync } from 'node:zlib';
import { encodeIntoCompressedBase64, Int32Histogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { readSavedHistogram } from '../../src/metrics/saved-histogram.js';
import { snapshotProblem } from '../../src/state/snapshot-schema.js';
import { snapshot } from '../state/helpers.js';

/** 1..1000 ms, one request each. */
function recorded(): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
  return histogram;
}

/** The compressed V2 framing around a deflated body, as the encoder writes it. */
function framed(body: Buffer): string {
  const deflated = deflateSync(body);
  const head = Buffer.alloc(8);
  head.writeInt32BE(0x1c849314, 0);
  head.writeInt32BE(deflated.length, 4);
  return Buffer.concat([head, deflated]).toString('base64');
}

describe('a saved latency histogram', () => {
  it('reads back what was recorded: a resumed histogram gives the percentiles of every request', () => {
    const dead = recorded();
    const text = dead.encoded() as string;
    expect(text.length).toBeLessThan(2_000);
    const saved = readSavedHistogram(text, 1000);
    if (typeof saved === 'string') throw new Error(saved);
    const resumed = new LatencyHistogram();
    resumed.addSaved(saved, dead.percentiles()!);
    expect(resumed.percentiles()).toEqual(dead.percentiles());
    // Requests after the resume count with the dead run's: 1000 more at 2 s put p50 at the top of the 1000 ms bucket (p95 is never above the exact max).
    for (let i = 0; i < 1000; i++) resumed.record(2000);
    expect(resumed.percentiles()).toMatchObject({ count: 2000, p50: 1000.447, p95: 2000, max: 2000 });
    expect(resumed.percentiles()?.mean).toBeCloseTo((500.5 * 1000 + 2000 * 1000) / 2000, 6);
    // Encoded again only after new values.
    expect(resumed.encoded()).toBe(resumed.encoded());
    expect(new LatencyHistogram().encoded()).toBeUndefined();
  });

  it('refuses one that is not what bluegreen writes, saying why', () => {
    const text = recorded().encoded() as string;
    expect(readSavedHistogram(text, 999)).toBe('it holds 1000 values, not the 999 saved beside it');
    expect(readSavedHistogram(42, 1)).toBe('not a base64 text of a sensible size');
    expect(readSavedHistogram('not base64!', 1)).toBe('not a base64 text of a sensible size');
    expect(readSavedHistogram('x'.repeat(300_000), 1)).toBe('not a base64 text of a sensible size');
    expect(readSavedHistogram(Buffer.from('hello world').toString('base64'), 1)).toBe('not a compressed HdrHistogram (V2)');
    // Cut short: the compressed length says more than is there.
    expect(readSavedHistogram(text.slice(0, 40), 1000)).toBe('its compressed length is wrong');
    // Another range or precision (a histogram of someone else's making).
    const other = new Int32Histogram(1, 1000, 2);
    other.recordValue(5);
    expect(readSavedHistogram(encodeIntoCompressedBase64(other), 1)).toBe('its range or precision is not the one bluegreen records with');
    // A deflate bomb (64 MB of zeros in ~64 KB) is stopped at its inflated size limit.
    expect(readSavedHistogram(framed(Buffer.alloc(64 * 1024 * 1024)), 1)).toBe('it does not inflate (corrupt, or too large)');
    // A header claiming a payload far longer than the body (the decoder would loop over it).
    const header = Buffer.alloc(40);
    header.writeInt32BE(0x1c849303, 0);
    header.writeInt32BE(2_000_000_000, 4);
    expect(readSavedHistogram(framed(header), 1)).toBe('its payload length is wrong');
  });

  it("is a base64 text in state.json's schema: anything else names its key", () => {
    const arm = { requests: 1, failures: 0, latency: null, costUsd: 0 };
    const state = (histograms: unknown) => ({
      ...snapshot({ greenWeight: 0.5 }),
      stages: [{ index: 0, greenWeight: 0.5, verdict: 'running', arms: { blue: arm, green: { ...arm, histograms } } }],
    });
    expect(snapshotProblem(state({ latency: 'SGVsbG8=' }))).toBeUndefined();
    expect(snapshotProblem(state(undefined))).toBeUndefined();
    expect(snapshotProblem(state({ latency: 7 }))).toContain('stages[0].arms.green.histograms.latency');
  });
});
