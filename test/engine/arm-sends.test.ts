// SendTimes (sends before a moment, in bounded memory) and ArmSends (an arm's sends per stage for the p95 ratio's
// sent-before bound): exact counts at an edge at or before the moment asked, within 1% of its age.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { createRandom } from '../../src/core/random.js';
import { ArmSends } from '../../src/engine/arm-sends.js';
import { SendTimes } from '../../src/engine/send-times.js';
import { blueSentReference } from '../../src/analysis/index.js';
import { emptyArmStats } from '../../src/metrics/types.js';

describe('SendTimes', () => {
  it('counts the sends before an edge at or before the moment asked, exactly, the edge within 1% of its age', () => {
    const rng = createRandom(33);
    const times = new SendTimes();
    const sent: number[] = [];
    // Two hours of sends, bursts and quiet stretches: gaps from 0 to ~60 s.
    let at = 1_000;
    while (at < 7_200_000) {
      sent.push(at);
      times.record(at);
      at += rng() < 0.001 ? rng() * 60_000 : rng() * 20;
    }
    const now = at;
    for (const age of [0, 0.5, 3, 17, 250, 900, 1_234.5, 9_000, 61_000, 600_000, 3_599_000]) {
      const count = times.sentBefore(now - age);
      const before = (edge: number) => sent.filter((t) => t < edge).length;
      // Some edge at or before now - age, at most 1% of the age (and a whole ms) earlier, has exactly `count` before it.
      const earliest = now - age - Math.max(1, age * 0.01);
      expect(count, `age ${age}`).toBeLessThanOrEqual(before(now - age + 1e-9));
      expect(count, `age ${age}`).toBeGreaterThanOrEqual(before(earliest));
    }
    // Older than the rings hold: the start of time.
    expect(times.sentBefore(now - 5_000_000)).toBe(0);
    expect(times.sentBefore(now + 1)).toBe(sent.length);
  });

  // The proxy takes back the send of an attempt whose result is neutral (src/proxy/metrics.ts unsent): counted
  // nowhere, on a level still holding its bin or not.
  it('takes a send back: counted before no edge, whether its bin is still held or has left the finest rings', () => {
    const times = new SendTimes();
    for (const at of [10, 20, 30]) times.record(at);
    times.remove(20);
    expect([times.sentBefore(15), times.sentBefore(25), times.sentBefore(35), times.total]).toEqual([1, 1, 2, 2]);
    // Ten minutes on, the send at 10 has left the finest levels' rings: taken back, the counts stay whole.
    times.record(600_000);
    times.remove(10);
    expect([times.sentBefore(100), times.sentBefore(599_999), times.sentBefore(600_001), times.total]).toEqual([0, 1, 2, 2]);
  });

  it('gives a count of sends that is a whole prefix: never one sent at or after the moment', () => {
    const times = new SendTimes();
    for (const at of [10, 10.5, 11, 20, 20, 21]) times.record(at);
    expect(times.sentBefore(10)).toBe(0);
    expect(times.sentBefore(11)).toBe(2);
    expect(times.sentBefore(20)).toBe(3);
    expect(times.sentBefore(20.7)).toBe(3);
    expect(times.sentBefore(21)).toBe(5);
    expect(times.sentBefore(1_000)).toBe(6);
  });

  it('counts alike on a clock far below 0 or past 2^31 ms (its rings indexed by bin mod their size)', () => {
    const rng = createRandom(35);
    // Gaps in eighths of a ms: every send time exact at each origin below (a double holds 2^45 to 2^-7 ms).
    const gaps = Array.from({ length: 20_000 }, () => Math.round((rng() < 0.01 ? rng() * 5_000 : rng() * 3) * 8) / 8);
    const counts = (origin: number): number[] => {
      const times = new SendTimes();
      let at = origin;
      for (const gap of gaps) times.record((at += gap));
      return [0, 1, 2.5, 40, 700, 12_000, 90_000].map((age) => times.sentBefore(at - age));
    };
    const near = counts(0);
    // The last send is at the moment asked at age 0: not before it.
    expect(near[0]).toBe(gaps.length - 1);
    expect(near.at(-1)).toBeLessThan(gaps.length);
    // Offsets whole in the coarsest bins' width (2^14 ms): the same bins, so the same counts.
    for (const origin of [-(2 ** 40), -(2 ** 20), 2 ** 31 + 2 ** 14, 2 ** 45]) expect(counts(origin), `origin ${origin}`).toEqual(near);
  });
});

describe('ArmSends', () => {
  it('times a send once: a request counted as sent at least v before the look has run at least v (a pause between two readings)', () => {
    // The steady clock jumps 0.9 ms after its first reading, as a GC pause between two readings would.
    let steady = 100.2;
    let jump = 0.9;
    const clock = {
      now: () => 0,
      steadyNow: () => {
        const at = steady;
        steady += jump;
        jump = 0;
        return at;
      },
      setTimer: () => ({ cancel: () => {} }),
    };
    const blue = new ArmSends(clock);
    blue.started(0);
    const view = blue.view(0);
    const [age] = view?.runningAgesMs ?? [];
    expect(age).toBeDefined();
    for (const v of [0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 0.9, 1, 2])
      if ((view?.sentAtLeast(v) ?? 0) > 0) expect(age, `counted as sent at least ${v} ms before`).toBeGreaterThanOrEqual(v);
    expect(view?.sentAtLeast(0.05)).toBe(1);
  });

  it("gives each stage's blue requests, those running with their ages, and those sent at least an age before the look", async () => {
    const clock = new FakeClock();
    const blue = new ArmSends(clock);
    const first = blue.started(0);
    await clock.advance(1_000);
    blue.started(0);
    blue.ended(first);
    await clock.advance(1_000);
    const cut = blue.lastStarted;
    blue.started(0);
    await clock.advance(500);
    blue.started(1);
    await clock.advance(500);
    const stage0 = blue.view(0);
    expect(stage0?.requests).toBe(3);
    expect(stage0?.runningAgesMs).toEqual([2_000, 1_000]);
    // Exact ages: blue's lower bound counts the running ones at them (session 34).
    expect(stage0?.runningAgesAtMostMs).toEqual([2_000, 1_000]);
    // At 2.9 s, on bins 16 ms wide (the finest level still holding it): the first only.
    expect(stage0?.sentAtLeast(2_900)).toBe(1);
    expect(stage0?.sentAtLeast(1_500)).toBe(2);
    expect(stage0?.sentAtLeast(100)).toBe(3);
    // Cut when stage 0's time was up: the first two only.
    const judged = blue.view(0, cut);
    expect(judged?.requests).toBe(2);
    expect(judged?.runningAgesMs).toEqual([2_000]);
    expect(judged?.sentAtLeast(100)).toBe(2);
    const stage1 = blue.view(1);
    expect(stage1?.requests).toBe(1);
    expect(stage1?.sentAtLeast(600)).toBe(0);
    expect(stage1?.sentAtLeast(400)).toBe(1);
    expect(blue.view(2)?.requests).toBe(0);
  });

  it('gives no figures of a stage once one of its requests left without a result (cancelled by the ending), only of it', async () => {
    const clock = new FakeClock();
    const blue = new ArmSends(clock);
    const slot = blue.started(0);
    const kept = blue.started(0);
    await clock.advance(1_000);
    blue.ended(kept);
    blue.started(1);
    await clock.advance(500);
    blue.ended(slot, true);
    expect(blue.view(0)).toBeUndefined();
    // Stage 1's own id range: its one request, running for 500 ms, the cancelled one not among them.
    const stage1 = blue.view(1);
    expect(stage1?.requests).toBe(1);
    expect(stage1?.runningAgesMs).toEqual([500]);
    expect(stage1?.sentAtLeast(400)).toBe(1);
    expect(stage1?.sentAtLeast(1_200)).toBe(0);
    // Blue over the rollout so far needs every stage's: none (reference.ts).
    expect(blueSentReference({ stageIndex: 1, blue: emptyArmStats(), greenWeight: 1, blueSent: [blue.view(0), stage1] })).toBeUndefined();
  });

  it("serves green as the latency rules' watch too: one id per send, the limit's call made once a request crosses it", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const green = new ArmSends(clock, { limitMs: 1_000, minGapMs: 100, onOverdue: () => calls++ });
    green.started(0);
    await clock.advance(500);
    green.started(0);
    // The watch's ids and the send times' count are one: a stage's cut (judging.ts) is the same for both.
    expect(green.running.lastStarted).toBe(green.lastStarted);
    expect(calls).toBe(0);
    await clock.advance(501);
    expect(calls).toBe(1);
    expect(green.running.agesOver(1_000, 0)).toEqual([1_001]);
    expect(green.view(0)?.runningAgesMs).toEqual([1_001, 501]);
    green.running.stop();
  });
});
