// The results feed keeps each result as columns (src/proxy/feed-ring.ts), yet a reader gets exactly the JSON the
// objects it kept before gave: every field of every kind of result the proxy makes (the rollout records the whole
// result: src/live/live-source.ts), byte for byte, in pages and in handovers, before and after the ring wraps.
import { describe, expect, it } from 'vitest';
import type { QualityOutcome } from '../../src/analysis/quality.js';
import { clientDigest } from '../../src/proxy/client-digest.js';
import { FeedRing } from '../../src/proxy/feed-ring.js';
import { abandonedResult, failedResult, succeededResult, type Exchange } from '../../src/proxy/forward-result.js';
import { parseLine } from '../../src/proxy/handover-format.js';
import type { ResultKind } from '../../src/proxy/metrics.js';
import { ResultsFeed, type FeedEntry, type HandedEntry } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

const TOKEN = 'an-admin-token-long-enough';
const digest = clientDigest(TOKEN);

const exchange = (arm: 'blue' | 'green', extra: Partial<Exchange> = {}): Exchange => ({
  arm,
  model: `model-${arm}`,
  stream: false,
  latencyMs: 123.456789,
  status: 200,
  headers: { 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-remaining-tokens': '123456' },
  ...extra,
});

interface Recorded {
  result: UpstreamResult;
  kind: ResultKind;
  quality: QualityOutcome;
  stage?: number;
}

/** Every kind of result the proxy records, as forward-result.ts makes them (and chat.ts names an abort's client). */
function everyKind(): Recorded[] {
  const plain = succeededResult(
    exchange('blue'),
    {
      content: 'the answer',
      finishReason: 'stop',
      servedModel: 'model-blue-2024-08-06',
      usage: { promptTokens: 12, completionTokens: 34, totalTokens: 46 },
    },
    undefined,
  );
  const streamed = succeededResult(
    exchange('green', { stream: true, headers: { 'anthropic-ratelimit-tokens-remaining': '7' } }),
    {
      content: 'streamed',
      finishReason: 'end_turn',
      usage: { promptTokens: 5, completionTokens: 6, totalTokens: 11, estimated: true },
      reasoningChars: 40,
    },
    17.25,
  );
  const tools = succeededResult(exchange('green', { headers: undefined }), { content: '', finishReason: 'tool_calls', toolCalls: 3 }, undefined);
  const refused = succeededResult(exchange('green', { status: undefined }), { content: 'no', finishReason: 'refusal', refusal: true }, undefined);
  const odd = succeededResult(exchange('blue', { latencyMs: 0.1 + 0.2 }), { content: 'x', finishReason: 'weird_reason' }, undefined);
  const failed = failedResult(exchange('green', { status: 503 }), { failure: 'server_error', status: 503, reason: 'overloaded' });
  const timedOut = failedResult(exchange('green', { status: undefined, headers: undefined, latencyMs: 30_000 }), { failure: 'timeout' });
  const aborted = abandonedResult(exchange('green', { status: undefined, headers: undefined, latencyMs: 812.5 }));
  aborted.client = 'fnv-1a:12345678';
  const anonymousAbort = abandonedResult(exchange('blue', { status: undefined, headers: undefined }));
  return [
    { result: plain, kind: 'routed', quality: { ok: true }, stage: 0 },
    { result: streamed, kind: 'routed', quality: { ok: true }, stage: 1 },
    { result: tools, kind: 'routed', quality: { ok: true }, stage: 2 },
    { result: refused, kind: 'routed', quality: { ok: false, reason: 'refused' }, stage: 2 },
    { result: odd, kind: 'mirror', quality: { ok: false, reason: 'too short' } },
    { result: failed, kind: 'fallback', quality: { ok: false }, stage: 3 },
    { result: timedOut, kind: 'routed', quality: { ok: true }, stage: 4_000_000_000 },
    { result: aborted, kind: 'routed', quality: Object.freeze({ ok: true }), stage: 1 },
    { result: anonymousAbort, kind: 'mirror', quality: { ok: true } },
  ];
}

/** What the feed kept of a result before session 18 (results-feed.ts's push): the page must not change. */
function entryBefore(seq: number, { result, kind, quality, stage }: Recorded): FeedEntry {
  const entry: FeedEntry = {
    seq,
    kind,
    result: { ...result, content: '' },
    quality: quality.reason !== undefined ? { ok: quality.ok, reason: quality.reason } : { ok: quality.ok },
  };
  if (stage !== undefined) entry.stage = stage;
  if (result.client !== undefined) entry.result.client = digest(result.client);
  return entry;
}

function feedOf(capacity: number, controller = 'run-1'): ResultsFeed {
  return new ResultsFeed(capacity, { controller: () => controller, clientDigest: digest });
}

describe('the results feed kept as columns', () => {
  it('pages every kind of result exactly as the objects it kept before gave them', () => {
    const feed = feedOf(100);
    const recorded = everyKind();
    for (const r of recorded) feed.push(r.result, r.kind, r.quality, r.stage);
    const page = feed.read(0);
    const before = recorded.map((r, i) => entryBefore(i + 1, r));
    expect(JSON.stringify(page.results)).toBe(JSON.stringify(before));
    // Every field there: the JSON above compares them all, this says they were there to compare.
    expect(page.results[1]?.result).toMatchObject({
      stream: true,
      ttftMs: 17.25,
      reasoning: true,
      usage: { estimated: true },
      rateLimit: { remainingTokens: 7 },
    });
    expect(page.results[7]?.result.client).toBe(digest('fnv-1a:12345678'));
    expect(page.results[4]?.result.latencyMs).toBe(0.1 + 0.2);
  });

  it('keeps the few results the columns cannot give back exactly whole, and pages them as before', () => {
    const feed = feedOf(100);
    const recorded: Recorded[] = [
      // A field this version does not know, a count that is not a whole number, fields in another order, no text.
      { result: { ...everyKind()[0]!.result, cachedTokens: 3 } as UpstreamResult, kind: 'routed', quality: { ok: true } },
      { result: { ...everyKind()[0]!.result, status: 200.5 }, kind: 'routed', quality: { ok: true } },
      { result: { ok: true, arm: 'blue', model: 'm', content: 'x', latencyMs: 1, attempts: 1, stream: false }, kind: 'routed', quality: { ok: true } },
      { result: { arm: 'blue', model: 'm', ok: true, latencyMs: 1, attempts: 1, stream: false } as UpstreamResult, kind: 'routed', quality: { ok: true } },
      { result: everyKind()[0]!.result, kind: 'routed', quality: { ok: true }, stage: 2 ** 33 },
    ];
    for (const r of recorded) feed.push(r.result, r.kind, r.quality, r.stage);
    expect(JSON.stringify(feed.read(0).results)).toBe(JSON.stringify(recorded.map((r, i) => entryBefore(i + 1, r))));
  });

  it('after wrapping: the last `capacity` results as before, what a late reader missed, and no string kept for results gone', () => {
    const feed = feedOf(4);
    const recorded: Recorded[] = [];
    for (let n = 0; n < 40; n++) {
      const r = everyKind()[n % 9]!;
      // A new error message each time (as a client abort's milliseconds make): the ring must not keep them all.
      r.result.errorMessage = `failed after ${n} ms`;
      recorded.push(r);
      feed.push(r.result, r.kind, r.quality, r.stage);
    }
    const page = feed.read(30);
    expect(page.missed).toBe(6);
    expect(page.results.map((e) => e.seq)).toEqual([37, 38, 39, 40]);
    expect(JSON.stringify(page.results)).toBe(JSON.stringify(recorded.slice(36).map((r, i) => entryBefore(37 + i, r))));
    // A stopping proxy hands over what is still in the ring, each with its number in this feed.
    expect(feed.unread('run-1').map((e) => e.origin.seq)).toEqual([37, 38, 39, 40]);
    const ring = new FeedRing(4);
    for (let n = 0; n < 1000; n++) ring.record(n + 1, { ...everyKind()[5]!.result, errorMessage: `unique ${n}` }, 'routed', { ok: true }, 0, `run-${n}`);
    // Four results' strings at most (arm, model, failure, message, controller each): not a thousand.
    expect(ring.distinctStrings).toBeLessThanOrEqual(4 * 5);
  });

  it('lets go of results kept whole, and of their strings, as the ring wraps', () => {
    const ring = new FeedRing(4);
    const base = everyKind()[0]!;
    for (let n = 0; n < 1000; n++) {
      // A field the columns do not know keeps the result whole; its run and origin are new strings each time.
      const result = { ...base.result, priority: `high ${n}` } as UpstreamResult;
      if (n % 2) ring.record(n + 1, result, 'routed', { ok: true }, 0, `run-${n}`);
      else ring.adopt(n + 1, { kind: 'routed', result, quality: { ok: true }, origin: { epoch: `e${n}`, seq: n, controller: `run-${n}` } });
    }
    // The last four results only (each with its run): not a thousand objects and strings.
    expect(ring.keptWhole).toBe(4);
    expect(ring.distinctStrings).toBe(4);
    expect(ring.entry(1000).result).toMatchObject({ priority: 'high 999' });
    // Two results the columns hold take the places of two kept whole: those go.
    for (const n of [1001, 1002]) ring.record(n, base.result, 'routed', { ok: true }, 0, 'run-last');
    expect(ring.keptWhole).toBe(2);
    expect(ring.entry(1002).result).not.toHaveProperty('priority');
  });

  it('hands over and adopts results byte for byte as before, their origins and stages kept', () => {
    const old = feedOf(100);
    const recorded = everyKind();
    for (const r of recorded) old.push(r.result, r.kind, r.quality, r.stage);
    const handed = old.unread('run-1');
    // A handover line as before: the entry without seq, its origin last.
    const linesBefore = recorded.map((r, i) => {
      const { seq: _seq, ...rest } = entryBefore(i + 1, r);
      return JSON.stringify({ ...rest, origin: { epoch: old.epoch, seq: i + 1, controller: 'run-1' } });
    });
    expect(handed.map((e) => JSON.stringify(e))).toEqual(linesBefore);

    const next = feedOf(100, 'run-2');
    next.push(recorded[0]!.result, 'routed', { ok: true }, 9);
    const parsed = linesBefore.map((line) => parseLine(line) as HandedEntry);
    next.adopt(parsed);
    // Read with a cursor of another feed: read from this feed's start (session 34), and nothing here counts as read,
    // all of it is handed on below.
    const page = next.read(1, undefined, 'another-feed');
    expect(page.results[0]).toMatchObject({ seq: 1, stage: 9 });
    expect(JSON.stringify(page.results.slice(1))).toBe(JSON.stringify(parsed.map((entry, i) => ({ seq: i + 2, ...entry }))));
    // Adopted results go on to the next proxy with the origin they came with, under their own rollout run.
    expect(next.unread('run-1').map((e) => JSON.stringify(e))).toEqual(linesBefore);
    expect(next.unread('run-2')).toHaveLength(1);
  });

  it("adopts a newer proxy's handed-over results it cannot keep as columns whole, as they came", () => {
    const feed = feedOf(100);
    const base = JSON.parse(JSON.stringify({ ...entryBefore(1, everyKind()[0]!), seq: undefined })) as FeedEntry;
    const origin = { epoch: 'e0', seq: 1, controller: 'run-1' };
    const handed = [
      { ...base, origin, priority: 'high' },
      { ...base, origin: { ...origin, shard: 2 } },
      { ...base, result: { ...base.result, content: 'text a newer proxy kept' }, origin },
      { ...base, quality: { reason: 'first', ok: false }, origin },
      { origin, ...base },
    ] as unknown as HandedEntry[];
    feed.adopt(handed);
    expect(JSON.stringify(feed.read(0).results)).toBe(JSON.stringify(handed.map((entry, i) => ({ seq: i + 1, ...entry }))));
  });

  it('numbers an adopted result by this feed, whatever seq a hand-edited handover line gives it', () => {
    const feed = feedOf(100);
    const { seq: _seq, ...base } = entryBefore(1, everyKind()[0]!);
    const origin = { epoch: 'e0', seq: 1, controller: 'run-1' };
    const lines = [
      { ...base, origin },
      { seq: 999, ...base, origin },
      { ...base, origin, seq: -4 },
    ];
    feed.adopt(lines.map((line) => parseLine(JSON.stringify(line)) as HandedEntry));
    const results = feed.read(0).results;
    expect(results.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    // Kept whole as the line came but for its number, which leads as in every entry.
    expect(JSON.stringify(results[2])).toBe(JSON.stringify({ seq: 3, ...base, origin }));
  });

  it('holds a result in a fixed number of bytes outside the JS heap, none of the proxy’s kept whole', () => {
    const ring = new FeedRing(1000);
    everyKind().forEach((r, i) => ring.record(i + 1, r.result, r.kind, r.quality, r.stage, 'run-1', r.result.client && digest(r.result.client)));
    expect(ring.keptWhole).toBe(0);
    // The columns: 9 results' worth of counts, strings and latencies (the objects before: ~400 B of heap a result).
    expect(FeedRing.BYTES_PER_RESULT).toBeLessThanOrEqual(128);
    expect(ring.bytes).toBe(1000 * FeedRing.BYTES_PER_RESULT);
  });
});
