// Blue's send times from several proxies (src/live/live-sent.ts) on made-up pages: each proxy's part checked
// against the blue results read from it, summed on one look (the earliest page asked, on the rollout's steady
// clock), each proxy's count taken at the age asked plus how long after that look its page came back.
import { describe, expect, it } from 'vitest';
import { blueSentReference } from '../../src/analysis/reference.js';
import { LiveSent } from '../../src/live/live-sent.js';
import type { SentReport } from '../../src/proxy/metrics.js';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import { armResult } from '../helpers/results-pages.js';

/** `count` of blue's sends begun at least ageStepMs(k) before the page for k below `upTo`, then `then` below `end`. */
const steps = (count: number, upTo: number, then: number, end: number): number[] => Array.from({ length: end }, (_, k) => (k < upTo ? count : then));

const report = (stage: number, sends: number, sentAtLeast: number[], running: number[] = [], exact = true): SentReport => ({
  stage,
  sends,
  exact,
  sentAtLeast,
  running,
});

/** A page asked for and answered at these steady times, the wall clock 1e12 ms ahead of them. */
const at = (askedAt: number, answeredAt: number) => ({
  asked: { steady: askedAt, wall: 1e12 + askedAt },
  answered: { steady: answeredAt, wall: 1e12 + answeredAt },
});

const blueEntry = (stage: number): FeedEntry => ({ seq: 1, stage, sent: 1, kind: 'routed', result: armResult('blue', true), quality: { ok: true } });

/** Proxy A: 3 answered and 1 running (at the grid's 30th age) in stage 0; proxy B: 3 answered. Each read once. */
function twoProxies() {
  const sends = new LiveSent();
  const a = { name: 'a' };
  const b = { name: 'b' };
  const results = (proxy: object, epoch: string, stage: number, count: number): void => {
    for (let i = 0; i < count; i++) sends.result(proxy, epoch, blueEntry(stage), stage);
  };
  results(a, 'ea', 0, 3);
  results(b, 'eb', 0, 3);
  const pageA = (askedAt: number, answeredAt: number) =>
    sends.page(a, 'ea', { blue: [report(0, 4, steps(4, 24, 2, 40), [...Array<number>(30).fill(0), 1])], green: undefined }, at(askedAt, answeredAt));
  const pageB = (askedAt: number, answeredAt: number) =>
    sends.page(b, 'eb', { blue: [report(0, 3, steps(3, 32, 1, 48))], green: undefined }, at(askedAt, answeredAt));
  pageA(1000, 1004);
  pageB(1002, 1010);
  return { sends, a, b, results, pageA, pageB };
}

describe("several proxies' blue sends", () => {
  it("are summed on the earliest page asked, each proxy's count at the age plus its page's lag after that", () => {
    const { sends, a, b } = twoProxies();
    const sent = sends.view('blue', 0, [a, b]);
    expect(sent?.requests).toBe(7);
    expect(sent?.runningAgesMs).toEqual([2 ** (30 / 8)]);
    // At 10 ms: A asked at 14 ms (its page came back 4 ms after the look), B at 20 ms (10 ms after): 2 + 1.
    // Each alone, at its own page, would count 2 and 3: the later page's sends count from the common look only.
    expect([1, 10, 30, 3_600_000].map((ageMs) => sent?.sentAtLeast(ageMs))).toEqual([7, 3, 1, 0]);
    expect(sends.view('blue', 0, [b])?.sentAtLeast(10)).toBe(3);
    expect(sends.view('blue', 0, [a])?.sentAtLeast(10)).toBe(2);
  });

  it('are none when any proxy is not known exactly: no page, no report of the stage, one lost or restarted, results and sends apart', () => {
    const unread = twoProxies();
    expect(unread.sends.view('blue', 0, [unread.a, unread.b, { name: 'never read' }])).toBeUndefined();
    expect(unread.sends.view('blue', 1, [unread.a, unread.b])).toBeUndefined();

    const missed = twoProxies();
    missed.sends.lost(missed.b, 0);
    expect(missed.sends.view('blue', 0, [missed.a, missed.b])).toBeUndefined();
    // Only that stage: another stage both report exactly is still given.
    missed.sends.page(missed.a, 'ea', { blue: [report(1, 0, [])], green: undefined }, at(2000, 2001));
    missed.sends.page(missed.b, 'eb', { blue: [report(1, 0, [])], green: undefined }, at(2000, 2001));
    expect(missed.sends.view('blue', 1, [missed.a, missed.b])?.requests).toBe(0);

    const restarted = twoProxies();
    restarted.sends.lost(restarted.a, 0);
    restarted.sends.forget(restarted.a);
    expect(restarted.sends.view('blue', 0, [restarted.a, restarted.b])).toBeUndefined();
    // Its new process's page and results, of another feed: the stage stays inexact at that proxy.
    restarted.results(restarted.a, 'ea2', 0, 1);
    restarted.sends.page(restarted.a, 'ea2', { blue: [report(0, 1, [1])], green: undefined }, at(3000, 3001));
    expect(restarted.sends.view('blue', 0, [restarted.a, restarted.b])).toBeUndefined();

    const apart = twoProxies();
    // One more blue result read from B than its page reported (read past the page its report came with): none.
    apart.results(apart.b, 'eb', 0, 1);
    expect(apart.sends.view('blue', 0, [apart.a, apart.b])).toBeUndefined();

    const handedOver = twoProxies();
    handedOver.sends.result(handedOver.b, 'eb', { ...blueEntry(0), origin: { epoch: 'old', seq: 1, sent: 1, controller: 'run' } }, 0);
    expect(handedOver.sends.view('blue', 0, [handedOver.a, handedOver.b])).toBeUndefined();

    const endedUnseen = twoProxies();
    endedUnseen.sends.page(endedUnseen.b, 'eb', { blue: [report(0, 3, steps(3, 32, 1, 48), [], false)], green: undefined }, at(1002, 1010));
    expect(endedUnseen.sends.view('blue', 0, [endedUnseen.a, endedUnseen.b])).toBeUndefined();
  });

  // A neutral result is in no sample, and the proxy took its send back (its sends count the judged sample): read, it
  // leaves the counts matching.
  it('leave out a neutral blue result, as the proxy’s sends do', () => {
    const { sends, a, b } = twoProxies();
    const refused = armResult('blue', false);
    sends.result(b, 'eb', { ...blueEntry(0), result: { ...refused, failure: 'client_error', status: 400, neutral: true } }, 0);
    expect(sends.view('blue', 0, [a, b])?.requests).toBe(7);
    // Counted as one of blue's, it would be one more than B's page reported: no exact view at all.
    sends.result(b, 'eb', { ...blueEntry(0), result: { ...refused, failure: 'client_error', status: 400 } }, 0);
    expect(sends.view('blue', 0, [a, b])).toBeUndefined();
  });

  it("keep a proxy's older page (its read failed since) while its results match it: the look goes back to it", () => {
    const { sends, a, b, pageA } = twoProxies();
    // A read again 5 s later, B not: the look is B's page, asked at 1002, and A's came back 4,002 ms after it.
    pageA(6000, 6000);
    const sent = sends.view('blue', 0, [a, b]);
    expect(sent?.requests).toBe(7);
    // At 1 ms: A asked at about 4 s (past its grid's end, 0), B at 9 ms (3).
    expect(sent?.sentAtLeast(1)).toBe(3);
  });

  it("count a page's lag after the look on the wall clock where longer (this machine suspended while waiting for it)", () => {
    const { sends, a, b } = twoProxies();
    // B's page came back 10 ms after the look (A's asked) on the steady clock, 5 s after on the wall clock: from 5 s.
    sends.page(
      b,
      'eb',
      { blue: [report(0, 3, steps(3, 32, 1, 48))], green: undefined },
      { asked: { steady: 1002, wall: 1e12 + 1002 }, answered: { steady: 1010, wall: 1e12 + 6000 } },
    );
    expect(sends.view('blue', 0, [a, b])?.sentAtLeast(1)).toBe(4);
  });

  it('are summed over the stages at 100% green on the same look', () => {
    const { sends, a, b, results } = twoProxies();
    results(a, 'ea', 1, 1);
    results(b, 'eb', 1, 2);
    sends.page(
      a,
      'ea',
      { blue: [report(0, 4, steps(4, 24, 2, 40), [...Array<number>(30).fill(0), 1]), report(1, 1, steps(1, 8, 0, 9))], green: undefined },
      at(1000, 1004),
    );
    sends.page(b, 'eb', { blue: [report(0, 3, steps(3, 32, 1, 48)), report(1, 2, steps(2, 40, 1, 44))], green: undefined }, at(1002, 1010));
    const blueSent = [0, 1].map((stage) => sends.view('blue', stage, [a, b]));
    const sent = blueSentReference({ stageIndex: 1, blue: {} as never, greenWeight: 1, blueSent });
    expect(sent?.requests).toBe(10);
    // At 1 ms: stage 0's 7; stage 1's A asked at 5 ms (past its grid's 9 points: 0) and B at 11 ms (2).
    expect(sent?.sentAtLeast(1)).toBe(9);
  });
});
