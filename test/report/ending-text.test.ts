// The closing line: every way a rollout ends says what happened once, and never claims blue when moving it failed.
import { describe, expect, it } from 'vitest';
import { afterMoves, endingEventMessage, endingStartMessage, endings, finalMessage, type Ending } from '../../src/engine/endings.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { endingSentence, endingWatch } from '../../src/report/ending-text.js';

const breach = {
  rule: 'error_rate' as const,
  figure: 0.226,
  limit: 0.05,
  unit: 'ratio' as const,
  sample: 62,
  message: 'green error_rate 22.6% (at least 5.3%, 99.93% sure) > 5.0% over 62 requests in stage 3',
};

const cases: [string, Ending, string][] = [
  ['all stages passed', endings.allStagesPassed(5, 'gpt-4.1'), 'exit 0 — promoted: all 5 stages passed; gpt-4.1 takes 100% of traffic'],
  ['an operator promoted', endings.promotedByOperator('alice@ops (dashboard)'), 'exit 0 — promoted to 100% green by alice@ops (dashboard)'],
  ['a rule breached', endings.rolledBack(breach), `exit 10 — rolled back to blue: ${breach.message}`],
  ['an operator aborted', endings.aborted('bob@ci (pid 7)'), 'exit 4 — aborted by bob@ci (pid 7); traffic is back on blue'],
  ['SIGINT', endings.interrupted('SIGINT'), 'exit 130 — interrupted by SIGINT; rolled back to blue'],
  ['SIGTERM', endings.interrupted('SIGTERM'), 'exit 143 — interrupted by SIGTERM; rolled back to blue'],
  [
    'the launcher went away',
    endings.interrupted('SIGHUP', 'its launcher sh (pid 12) exiting'),
    'exit 129 — interrupted by its launcher sh (pid 12) exiting; rolled back to blue',
  ],
  ['an internal error', endings.failed('boom in a timer'), 'exit 1 — internal error: boom in a timer'],
  [
    'no record could be written (no bug of ours)',
    endings.unrecorded('ENOSPC: no space left on device', false),
    'exit 2 — stopped: state.json could not be written (ENOSPC: no space left on device): a rollout does not run without a record to recover from; nothing was moved',
  ],
];

/** Every run of four or more words that appears twice: what "saying it once" rules out. */
function repeatedPhrases(text: string): string[] {
  const words = text
    .toLowerCase()
    .split(/[\s:;,—]+/)
    .filter(Boolean);
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (let i = 0; i + 3 < words.length; i++) {
    const phrase = words.slice(i, i + 4).join(' ');
    if (seen.has(phrase)) repeated.push(phrase);
    seen.add(phrase);
  }
  return repeated;
}

describe('endingSentence', () => {
  it.each(cases)('%s: says what happened once, with the exit code', (_name, ending, expected) => {
    const sentence = endingSentence(ending);
    expect(sentence).toBe(expected);
    expect(repeatedPhrases(sentence)).toEqual([]);
    // The phase's word appears once: no "interrupted ... (exit 130): interrupted ...".
    const failedWord = ending.exitCode === 1 ? 'internal error' : 'stopped';
    const word = ending.phase === 'rolled_back' ? 'rolled back' : ending.phase === 'failed' ? failedWord : ending.phase;
    expect(sentence.split(word).length - 1).toBe(1);
  });

  it('a reason-less ending still reads', () => {
    expect(endingSentence({ phase: 'aborted', exitCode: 4 })).toBe('exit 4 — aborted');
  });

  it('says when the ending could not move traffic, instead of "back on blue" alone (the engine\'s reason after its moves)', () => {
    const text = endingSentence(afterMoves(endings.interrupted('SIGINT'), ['on_rollback hook: exec ./to-blue.sh exited 1 in 12ms']));
    expect(text).toBe(
      'exit 130 — interrupted by SIGINT, but putting traffic back on blue failed (on_rollback hook: exec ./to-blue.sh exited 1 in 12ms): check by hand that traffic is on blue',
    );
    expect(endingSentence(afterMoves(endings.aborted('bob'), ['proxy http://127.0.0.1:8788: connect ECONNREFUSED']))).toBe(
      'exit 4 — aborted by bob, but putting traffic back on blue failed (proxy http://127.0.0.1:8788: connect ECONNREFUSED): check by hand that traffic is on blue',
    );
    expect(endingSentence(afterMoves(endings.allStagesPassed(2, 'g'), ['on_promote hook: timed out']))).toBe(
      'exit 0 — promoted: all 2 stages passed, but moving all traffic to green failed (on_promote hook: timed out): check by hand that green serves all traffic',
    );
    // A rollback whose on_rollback failed is not said to be "rolled back to blue".
    expect(endingSentence(afterMoves(endings.rolledBack(breach), ['on_rollback hook: exited 3']))).toBe(
      `exit 10 — rolled back: ${breach.message}, but putting traffic back on blue failed (on_rollback hook: exited 3): check by hand that traffic is on blue`,
    );
    expect(afterMoves(endings.aborted('bob'), [])).toEqual(endings.aborted('bob'));
  });

  it('says apart the proxies that kept green because another rollout promoted it there (not a failure to undo)', () => {
    const two = ['proxy http://a:8788: answered 409 (promoted)', 'proxy http://b:8788: answered 409 (promoted)'];
    expect(endingSentence(afterMoves(endings.rolledBack(breach), [], two))).toBe(
      `exit 10 — rolled back: ${breach.message}, but 2 proxies still serve green, promoted there by another rollout that reported it done ` +
        `(${two.join('; ')}): check by hand that green should serve there (else an operator's PUT /admin/route puts them on blue)`,
    );
    expect(afterMoves(endings.aborted('bob'), [], [])).toEqual(endings.aborted('bob'));
  });
});

describe('endingWatch', () => {
  const event = (type: RolloutEvent['type'], message: string): RolloutEvent => ({ at: 0, type, message });

  it('says when the ending began', () => {
    const watch = endingWatch();
    watch.see(event('hook_failed', 'on_stage hook: exec ./set.sh exited 3'));
    expect(watch.started()).toBe(false);
    watch.see(event('rolled_back', 'rolling back to blue on error_rate'));
    expect(watch.started()).toBe(true);
  });
});

describe("endingStartMessage (the aborted event, before the ending's hook ran)", () => {
  it('says traffic is being returned, not that it is back', () => {
    expect(endingStartMessage(endings.aborted('bob@ci (pid 7)'))).toBe('aborted by bob@ci (pid 7); returning traffic to blue');
    expect(endingStartMessage(endings.alreadyPromoted('g was already promoted; nothing moved'))).toBe('promoted: g was already promoted; nothing moved');
  });
});

describe('endingEventMessage', () => {
  it('names the phase once in the promoted and aborted events', () => {
    expect(endingEventMessage(endings.aborted('bob@ci (pid 7)'))).toBe('aborted by bob@ci (pid 7); traffic is back on blue');
    expect(endingEventMessage(endings.promotedByOperator('alice'))).toBe('promoted to 100% green by alice');
    expect(endingEventMessage(endings.allStagesPassed(5, 'gpt-4.1'))).toBe('promoted: all 5 stages passed; gpt-4.1 takes 100% of traffic');
  });
});

describe('finalMessage (the journal and status show it)', () => {
  it.each(cases)('%s: the phase once, then the exit code', (_name, ending) => {
    const message = finalMessage(ending);
    expect(message).toMatch(new RegExp(` \\(exit ${ending.exitCode}\\)$`));
    expect(repeatedPhrases(message)).toEqual([]);
  });
});
