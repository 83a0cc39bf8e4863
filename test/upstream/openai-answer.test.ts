// The fast path for whole (non-streamed) OpenAI answers: an answer spelled like one parsed earlier but for its
// text, its token counts and the fields nothing reads is read without JSON.parse, and the reply is exactly what
// the full parse gives, whatever the answer (known cases with keys in odd places, then a seeded fuzz).
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import type { AnswerReader, DialectReply, ParseOutcome } from '../../src/upstream/dialect.js';
import { openAiDialect } from '../../src/upstream/openai.js';

const MODEL = 'gpt-4o-2024-08-06';
// As OpenAI spells a chat completion today (refusal, annotations, the token details, service_tier).
const answer = (
  content: unknown,
  usage: Record<string, unknown> = { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
  extra: Record<string, unknown> = {},
) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1741569952,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: { ...usage, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 } },
    service_tier: 'default',
    system_fingerprint: 'fp_1',
    ...extra,
  });

const reader = (): AnswerReader => {
  const made = openAiDialect.sharedAnswerReader?.();
  if (!made) throw new Error('the OpenAI dialect has no answer reader');
  return made;
};

const fullParse = (text: string): ParseOutcome => {
  try {
    return openAiDialect.parse(JSON.parse(text));
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
};

/** What the proxy does with a collected body (src/proxy/collected.ts): the fast path, else the parse and learning. */
function readAnswer(answers: AnswerReader, text: string): { outcome: ParseOutcome; fast: boolean } {
  const known = answers.read(text);
  if (known !== undefined) return { outcome: { ok: true, reply: known }, fast: true };
  const outcome = fullParse(text);
  if (outcome.ok) answers.learn(text, JSON.parse(text), outcome.reply);
  return { outcome, fast: false };
}

function learnt(text: string): AnswerReader {
  const answers = reader();
  expect(readAnswer(answers, text).fast).toBe(false);
  return answers;
}

describe('the OpenAI answer reader', () => {
  it('reads an answer spelled like a learnt one as the parse does: text with escapes, new counts, unread fields changed', () => {
    const answers = learnt(answer('Hello'));
    const texts = [
      'Hello',
      '',
      'say "hi"\n',
      'café 😀',
      'back\\slash',
      '"usage":{"prompt_tokens":1}',
      '"choices":[{"message":{"content":"x"}}]',
      '\u2028\u0000',
    ];
    for (const content of texts) {
      const text = answer(content, { prompt_tokens: 7, completion_tokens: 123, total_tokens: 130 })
        .replace('"chatcmpl-1"', '"chatcmpl-other\\"x"')
        .replace('1741569952', '-1.5e3')
        .replace('"fp_1"', '"fp \\u0041"')
        .replace('"cached_tokens":0', '"cached_tokens":99');
      const read = readAnswer(answers, text);
      expect(read.fast).toBe(true);
      expect(read.outcome).toEqual(fullParse(text));
      expect(read.outcome.ok && read.outcome.reply.content).toBe(content);
      expect(read.outcome.ok && read.outcome.reply.usage).toEqual({ promptTokens: 7, completionTokens: 123, totalTokens: 130 });
    }
    // A key more in usage is another spelling.
    expect(answers.read(answer('x', { prompt_tokens: 7, completion_tokens: 123, total_tokens: 130, cached: 4 }))).toBeUndefined();
  });

  it('reads counts that make no usage as the parse does (fractional, negative, huge), and each reply is its own object', () => {
    const answers = learnt(answer('x'));
    for (const [prompt, completion] of [
      ['1.5', '2'],
      ['-3', '2'],
      ['1e400', '2'],
      ['0', '0'],
      ['-0', '1E2'],
    ]) {
      const text = answer('x')
        .replace('"prompt_tokens":19', `"prompt_tokens":${prompt}`)
        .replace('"completion_tokens":10', `"completion_tokens":${completion}`);
      const read = readAnswer(answers, text);
      expect(read.fast).toBe(true);
      expect(read.outcome).toEqual(fullParse(text));
    }
    const one = answers.read(answer('x')) as DialectReply;
    const two = answers.read(answer('x')) as DialectReply;
    expect(one).not.toBe(two);
    expect(one.usage).not.toBe(two.usage);
  });

  it('misses any answer spelled otherwise, and the parse reads it: finish reason, model, tool calls, whitespace, more keys, not JSON', () => {
    const text = answer('x');
    const cases = [
      text.replace('"finish_reason":"stop"', '"finish_reason":"length"'),
      text.replace(MODEL, 'gpt-4.1'),
      text.replace('"refusal":null', '"refusal":"no"'),
      answer(null, undefined, {}).replace(
        '"content":null',
        '"content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]',
      ),
      answer('x', undefined, { error: { message: 'boom' } }),
      text.replace('"message":{', '"message": {'),
      text.replace('"content":"x"', '"content":"x","reasoning_content":"because"'),
      text.replace('"content":"x"', '"content":["x"]'),
      text.replace('"usage":{', '"usage":{"prompt_tokens":5,'),
      text.replace('"content":"x"', '"content":"x","content":"y"'),
      text.replace('"content":"x"', '"cont\\u0065nt":"y","content":"x"'),
      text.slice(0, -1),
      `${text} x`,
      text.replace('"x"', '"a\tb"'),
      text.replace('"x"', '"a\\qb"'),
      text.replace('"x"', '"a"b"'),
      text.replace('"prompt_tokens":19', '"prompt_tokens":019'),
      text.replace('"prompt_tokens":19', '"prompt_tokens":"19"'),
      text.replace('"prompt_tokens":19', '"prompt_tokens":null'),
      text.replace('"chatcmpl-1"', '7'),
    ];
    for (const other of cases) {
      const answers = learnt(text);
      expect(answers.read(other), other).toBeUndefined();
    }
  });

  it('learns nothing from an answer whose spelling could mislead: a key twice or spelled with an escape', () => {
    const text = answer('x');
    const misleading = [
      // JSON.parse keeps the last usage (or content): a hole in the first would be read in its stead.
      text.replace('"service_tier"', '"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"service_tier"'),
      text.replace('"content":"x"', '"content":"x","content":"y"'),
      text.replace('"choices":', '"choices":[],"choices":'),
      text.replace('"content":"x"', '"cont\\u0065nt":"x"'),
      text.replace('"usage":{', '"us\\u0061ge":{'),
    ];
    for (const other of misleading) {
      const answers = learnt(other);
      expect(answers.read(other), other).toBeUndefined();
      expect(readAnswer(answers, text).fast).toBe(false);
    }
  });

  it('reads no tool call answer by its spelling, and stops learning from a provider whose answers never repeat', () => {
    const tools = answer(null).replace('"content":null', '"content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]');
    const answers = learnt(tools);
    expect(readAnswer(answers, tools).fast).toBe(false);
    // Every answer spelled anew (its logprobs differ): after a few it is parsed without learning, but the
    // provider's plain answers are learnt again now and then.
    let fast = 0;
    for (let i = 0; i < 300; i++) if (readAnswer(answers, answer('x', undefined, { logprobs: i })).fast) fast++;
    expect(fast).toBe(0);
    let later = 0;
    for (let i = 0; i < 200; i++) if (readAnswer(answers, answer(`plain ${i}`)).fast) later++;
    expect(later).toBeGreaterThan(100);
  });
});

describe('the answer reader against the full parse, seeded fuzz', () => {
  const PIECES = [
    'a',
    ' ',
    'é',
    '😀',
    '"',
    '\\',
    '\n',
    '\t',
    '\u0000',
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '"usage":{"prompt_tokens":1}',
    '\\u0041',
    '"content":"y"',
  ];
  const EDITS = [
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    ' ',
    '\\',
    'a',
    '0',
    '-',
    '.5',
    'e9',
    '"content":"y",',
    '"usage":{"total_tokens":1},',
    '"model":"other",',
    'null',
  ];

  it('decides every answer as the full parse does (20,000 answers, edited ones among them)', () => {
    const random = createRandom(30);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const text = (): string => Array.from({ length: Math.floor(random() * 6) }, () => pick(PIECES)).join('');
    const count = (): number | string => (random() < 0.9 ? Math.floor(random() * 5000) : pick([-1, 1.5, 1e300, '12', 0]));
    const answers = reader();
    let fast = 0;
    let adversarialFast = 0;
    for (let i = 0; i < 20_000; i++) {
      const usage = { prompt_tokens: count(), completion_tokens: count(), total_tokens: count() };
      const extra = random() < 0.1 ? { model: pick([MODEL, 'm2']) } : {};
      const finish = random() < 0.9 ? 'stop' : 'length';
      let data = answer(text(), usage, { id: text(), created: 1767225600 + i, system_fingerprint: text(), ...extra }).replace('"stop"', JSON.stringify(finish));
      const edited = random() < 0.4;
      if (edited) {
        // A byte inserted, removed or replaced: most are no longer JSON; some still are, and read differently.
        const at = Math.floor(random() * data.length);
        const edit = random();
        data =
          edit < 0.4
            ? data.slice(0, at) + pick(EDITS) + data.slice(at)
            : edit < 0.7
              ? data.slice(0, at) + data.slice(at + 1 + Math.floor(random() * 3))
              : data.slice(0, at) + pick(EDITS) + data.slice(at + 1);
      }
      const read = readAnswer(answers, data);
      expect(read.outcome).toEqual(fullParse(data));
      if (read.fast) fast++;
      if (read.fast && edited) adversarialFast++;
    }
    expect(fast).toBeGreaterThan(8_000);
    expect(adversarialFast).toBeGreaterThan(300);
  });
});
