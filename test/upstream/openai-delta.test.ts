// The fast path for plain OpenAI content chunks: a chunk spelled like an earlier plain text chunk but for its
// string values is read without JSON.parse, and the reader decides exactly what the full parse would, whatever
// the chunk (known cases, then a seeded fuzz against the reader that parses every chunk).
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import type { StreamReader, StreamStep } from '../../src/upstream/dialect.js';
import { openAiDialect, openAiStreamReader } from '../../src/upstream/openai.js';
import { learnTemplate, learnWholeTemplate, matchesWhole, readWithTemplate, TemplateMemory, type StreamStart } from '../../src/upstream/openai-delta.js';
const MODEL = 'gpt-4o-2024-08-06';
// As OpenAI spells them today (service_tier, system_fingerprint, logprobs, usage: null, obfuscation).
const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}, finish: string | null = null): string =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    service_tier: 'default',
    system_fingerprint: 'fp_1',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
    obfuscation: 'a1b2',
    ...extra,
  });

/** The template of a chunk the reader found to be plain text. */
function templateOf(data: string) {
  return learnTemplate(data, JSON.parse(data) as Record<string, unknown>);
}

describe('learnTemplate and readWithTemplate', () => {
  it('reads the text of a chunk spelled like the template, escapes included, as JSON.parse does; unread fields may differ', () => {
    const template = templateOf(chunk({ content: 'Hello' }));
    expect(template?.model).toBe(MODEL);
    if (!template) return;
    for (const text of ['Hello', ' world', '', 'say "hi"\n', 'caf\u00e9 \u{1f600}', 'back\\slash', '"', '\\', '}{]["', '\u2028\u0000']) {
      expect(readWithTemplate(template, chunk({ content: text }))).toBe(text);
      expect(readWithTemplate(template, chunk({ content: text }, { obfuscation: 'x"y\\z', id: 'other' }))).toBe(text);
    }
    expect(readWithTemplate(template, chunk({ content: 'x' }).replace('"x"', '"\\u00e9\\""'))).toBe('\u00e9"');
  });

  it('misses any chunk spelled otherwise: more in the delta, a finish reason, usage, another model, whitespace, not JSON', () => {
    const template = templateOf(chunk({ content: 'Hello' }));
    if (!template) throw new Error('no template');
    const cases = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'x' }, {}, 'stop'),
      chunk({ content: 'x' }, { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
      chunk({ content: 'x', tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      chunk({ content: 'x', reasoning_content: 'because' }),
      chunk({ content: 'x' }, { error: { message: 'boom' } }),
      chunk({ content: 'x' }, { model: 'another-model' }),
      chunk({ content: 'x' }).replace('"delta":{', '"delta": {'),
      // Cut short, trailing bytes, a raw control character, an escape JSON does not know, a quote left open.
      chunk({ content: 'x' }).slice(0, -1),
      `${chunk({ content: 'x' })}]`,
      chunk({ content: 'x' }).replace('"x"', '"a\tb"'),
      chunk({ content: 'x' }).replace('"x"', '"a\\qb"'),
      chunk({ content: 'x' }).replace('"x"', '"a"b"'),
      chunk({ content: 'x' }).replace('"obfuscation":"a1b2"', '"obfuscation":7'),
    ];
    for (const data of cases) expect(readWithTemplate(template, data), data).toBeUndefined();
  });

  it('reads a chunk of another stream: its created (any JSON number), id and obfuscation may differ, nothing else', () => {
    const template = templateOf(chunk({ content: 'Hello' }));
    if (!template) throw new Error('no template');
    for (const created of [0, 1767225600, -3, 1.5, 2e21]) {
      expect(readWithTemplate(template, chunk({ content: 'next' }, { created, id: 'chatcmpl-2' }))).toBe('next');
    }
    expect(readWithTemplate(template, chunk({ content: 'x' }).replace('"created":1', '"created":1.5e+3'))).toBe('x');
    for (const created of ['"1"', 'null', '01', '1.', '+1', '- 1', '1e', '.5']) {
      expect(readWithTemplate(template, chunk({ content: 'x' }).replace('"created":1', `"created":${created}`)), created).toBeUndefined();
    }
  });

  it('keeps a role or finish chunk whole: a later one matches when only id, created, obfuscation or system_fingerprint differ', () => {
    for (const source of [chunk({ role: 'assistant', content: '' }), chunk({}, {}, 'stop')]) {
      const whole = learnWholeTemplate(source, JSON.parse(source) as Record<string, unknown>);
      if (!whole) throw new Error('no whole template');
      expect(whole.chunk).toEqual(JSON.parse(source));
      const again = JSON.parse(source) as Record<string, unknown>;
      expect(matchesWhole(whole, JSON.stringify({ ...again, id: 'x"y', created: 99, obfuscation: '', system_fingerprint: 'fp_2' }))).toBe(true);
      for (const other of [
        { ...again, model: 'another' },
        { ...again, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, logprobs: null, finish_reason: null }] },
        { ...again, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }] },
        { ...again, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
        { ...again, created: 'soon' },
        { ...again, id: 7 },
      ]) {
        expect(matchesWhole(whole, JSON.stringify(other)), JSON.stringify(other)).toBe(false);
      }
      expect(matchesWhole(whole, `${source} `)).toBe(false);
    }
    expect(learnWholeTemplate(chunk({}, { note: 'a\\b' }), {})).toBeUndefined();
  });

  it('keeps the latest four templates, each applying only while the served model is its own', () => {
    const memory = new TemplateMemory();
    const of = (model: string) => chunk({ content: 'a' }, { model });
    for (const model of ['m1', 'm2', 'm3', 'm4', 'm5']) {
      const template = templateOf(of(model));
      if (template) memory.learn(template);
    }
    expect(memory.read(of('m5'), 'm5')).toBe('a');
    expect(memory.read(of('m2'), 'm2')).toBe('a');
    // The oldest was dropped; a template never reads for another served model.
    expect(memory.read(of('m1'), 'm1')).toBeUndefined();
    expect(memory.read(of('m5'), 'm4')).toBeUndefined();
    expect(memory.read(of('m5'), undefined)).toBeUndefined();
  });

  it("checks only a chunk's content and what follows when it starts like the last chunk read (same id and created)", () => {
    const template = templateOf(chunk({ content: 'Hello' }));
    if (!template) throw new Error('no template');
    expect(readWithTemplate(template, chunk({ content: 'one' }))).toBe('one');
    expect(template.prefix).toBe(chunk({ content: 'x' }).slice(0, chunk({ content: 'x' }).indexOf('"x"')));
    // Same start, bad content token or a bad field after it: still missed.
    expect(readWithTemplate(template, chunk({ content: 'x' }).replace('"x"', '"a\tb"'))).toBeUndefined();
    expect(readWithTemplate(template, chunk({ content: 'x' }).replace('"obfuscation":"a1b2"', '"obfuscation":7'))).toBeUndefined();
    expect(readWithTemplate(template, `${chunk({ content: 'x' })} `)).toBeUndefined();
    // Another stream's chunk (another id) is walked in full and becomes the start to compare with.
    expect(readWithTemplate(template, chunk({ content: 'two' }, { id: 'chatcmpl-2', created: 7 }))).toBe('two');
    expect(template.prefix).toContain('"id":"chatcmpl-2"');
    expect(readWithTemplate(template, chunk({ content: 'three' }, { id: 'chatcmpl-2', created: 7 }))).toBe('three');
    expect(readWithTemplate(template, chunk({ content: 'four' }))).toBe('four');
  });

  it("keeps each stream's start apart when streams read at once interleave their chunks", () => {
    const template = templateOf(chunk({ content: 'Hello' }));
    if (!template) throw new Error('no template');
    const of = (id: string, content: string) => chunk({ content }, { id });
    const a: StreamStart = {};
    const b: StreamStart = {};
    expect(readWithTemplate(template, of('chatcmpl-a', 'one'), a)).toBe('one');
    expect(readWithTemplate(template, of('chatcmpl-b', 'two'), b)).toBe('two');
    // The shared start is the last stream's; each stream's own is still its own.
    expect(template.prefix).toContain('"id":"chatcmpl-b"');
    expect(a.template).toBe(template);
    expect(a.prefix).toContain('"id":"chatcmpl-a"');
    expect(b.prefix).toContain('"id":"chatcmpl-b"');
    expect(readWithTemplate(template, of('chatcmpl-a', 'three'), a)).toBe('three');
    expect(template.prefix).toContain('"id":"chatcmpl-b"');
    // Its own start matched, a bad chunk after it is still missed; another stream's chunk is read as any other.
    expect(readWithTemplate(template, of('chatcmpl-a', 'x').replace('"x"', '"a\tb"'), a)).toBeUndefined();
    expect(readWithTemplate(template, `${of('chatcmpl-a', 'x')} `, a)).toBeUndefined();
    expect(readWithTemplate(template, of('chatcmpl-b', 'four'), a)).toBe('four');
    expect(a.prefix).toContain('"id":"chatcmpl-b"');
  });

  it('learns nothing from a chunk whose spelling could mislead: escapes, or choices, delta or content twice', () => {
    expect(templateOf(chunk({ content: 'a\nb' }))).toBeUndefined();
    expect(templateOf(chunk({ content: 'x' }, { note: 'say "hi"' }))).toBeUndefined();
    expect(templateOf('{"model":"m","choices":[{"delta":{"content":"a"}}],"extra":{"delta":{"content":"a"}}}')).toBeUndefined();
    expect(templateOf('{"model":"m","choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"a"}}]}')).toBeUndefined();
    expect(templateOf('{"model":"m","choices":[{"delta":{"content":"a"}}],"x":{"content":"a"}}')).toBeUndefined();
    // delta.content is not choices[0]'s.
    expect(templateOf('{"model":"m","choices":[{"index":0},{"delta":{"content":"a"}}]}')).toBeUndefined();
  });
});

describe('the OpenAI stream reader with the fast path', () => {
  it('gives the same reply as parsing every chunk: text, finish reason, usage, model, tool calls', () => {
    const reader = openAiDialect.streamReader();
    const events = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo "you"' }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"a":1}' } }] }),
      chunk({ content: '!' }),
      chunk({}, {}, 'stop'),
      JSON.stringify({ id: 'c', model: MODEL, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } }),
      '[DONE]',
    ];
    const deltas = events.map((data) => reader.event({ data, event: undefined }).delta);
    expect(deltas).toEqual(['', 'Hel', 'lo "you"', '', '!', '', undefined, undefined]);
    expect(reader.finish()).toEqual({
      ok: true,
      reply: {
        content: 'Hello "you"!',
        servedModel: MODEL,
        finishReason: 'stop',
        usage: { promptTokens: 5, completionTokens: 7, totalTokens: 12 },
        toolCalls: 1,
        toolChars: 8,
      },
    });
  });
});

describe('the OpenAI stream reader with several choices (n > 1)', () => {
  // Before (session 35): every chunk's choices[0] was read whatever its index, so two choices' texts were woven into
  // one answer, and its quality checks (json, contains, lengths) judged text nobody received.
  it('reads the first choice alone, as a whole answer is read (choices[0]), with the fast path and without', () => {
    const at = (index: number, delta: Record<string, unknown>, finish: string | null = null): string =>
      chunk(delta, { choices: [{ index, delta, logprobs: null, finish_reason: finish }] });
    // The second choice streams first: nothing is learnt from it either.
    const events = [
      at(1, { role: 'assistant', content: '' }),
      at(0, { role: 'assistant', content: '' }),
      at(1, { content: 'Bon' }),
      at(1, { content: 'jour' }),
      at(0, { content: 'Hel' }),
      at(1, { content: '!' }),
      at(0, { content: 'lo' }),
      at(1, {}, 'length'),
      at(0, {}, 'stop'),
      JSON.stringify({ id: 'c', model: MODEL, choices: [], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } }),
      '[DONE]',
    ];
    for (const reader of [openAiStreamReader(), openAiStreamReader({ fastPath: false })]) {
      const deltas = events.map((data) => reader.event({ data, event: undefined }).delta);
      expect(deltas).toEqual([undefined, '', undefined, undefined, 'Hel', undefined, 'lo', undefined, '', undefined, undefined]);
      expect(reader.finish()).toEqual({
        ok: true,
        reply: { content: 'Hello', servedModel: MODEL, finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 9, totalTokens: 14 } },
      });
    }
  });
});

describe('what a chat stream chunk counts as output (the first token; the proxy holds a green opening until it)', () => {
  const chunk = (delta: Record<string, unknown>) =>
    JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: MODEL, choices: [{ index: 0, delta, finish_reason: null }] });

  it('counts text, a refusal and audio; not a role alone', () => {
    const reader = openAiStreamReader({ fastPath: false });
    const steps = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ refusal: 'no' }),
      chunk({ audio: { id: 'a1', data: 'UklGRg==', transcript: 'hi' } }),
      chunk({ content: 'x' }),
    ].map((data) => reader.event({ data, event: undefined }).output);
    expect(steps).toEqual([false, true, true, true]);
  });
});

describe('the fast path against the full parse, seeded fuzz', () => {
  const PIECES = ['a', ' ', 'é', '😀', '"', '\\', '\n', '\t', '\u0000', '{', '}', '[', ']', ':', ',', '"delta":{"content":"x"}', '\\u0041', '"model":"m2"'];
  const EDITS = ['{', '}', '[', ']', '"', ':', ',', ' ', '\\', 'a', '0', '"delta":{"content":"y"}', '"model":"other",', 'null'];

  function run(reader: StreamReader, events: string[]): { steps: StreamStep[]; end: unknown } {
    const steps = events.map((data) => reader.event({ data, event: undefined }));
    return { steps, end: reader.finish() };
  }

  it('decides every chunk as the full parse does (2,000 streams of 30 chunks, adversarial ones among them, half sharing templates)', () => {
    const random = createRandom(12);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const text = (): string => Array.from({ length: Math.floor(random() * 6) }, () => pick(PIECES)).join('');
    let fastReadable = 0;
    let wholeReadable = 0;
    let adversarial = 0;
    // The proxy's readers share one upstream's templates across its streams: so does half of this fuzz.
    const shared = new TemplateMemory();
    for (let stream = 0; stream < 2000; stream++) {
      const model = random() < 0.8 ? MODEL : 'm2';
      const created = random() < 0.9 ? 1767225600 + stream : pick([0, -1, 1.5, 'soon', null]);
      const plain = (content: string, extra: Record<string, unknown> = {}): string =>
        JSON.stringify({
          id: 'c',
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [{ index: 0, delta: { content }, finish_reason: null }],
          usage: null,
          obfuscation: text(),
          ...extra,
        });
      const base = plain('seed');
      const template = templateOf(base);
      const unread = (): Record<string, unknown> => ({ id: text(), created, obfuscation: text() });
      const role = (): string => JSON.stringify({ ...unread(), model, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
      const finish = (): string => JSON.stringify({ ...unread(), model, choices: [{ index: 0, delta: {}, finish_reason: pick(['stop', 'length']) }] });
      const events: string[] = [role()];
      for (let i = 0; i < 30; i++) {
        const roll = random();
        let data: string;
        if (roll < 0.45) data = plain(text());
        else if (roll < 0.55) data = plain(text(), { model: pick([MODEL, 'm2', 'm3']) });
        else if (roll < 0.6) data = plain(text(), { usage: { prompt_tokens: 1, completion_tokens: Math.floor(random() * 9), total_tokens: 9 } });
        else if (roll < 0.65) data = random() < 0.5 ? finish() : role();
        else if (roll < 0.68)
          data = JSON.stringify({ model, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'f', arguments: text() } }] } }] });
        else if (roll < 0.7) data = JSON.stringify({ model, error: { message: 'boom' } });
        else {
          // A plain chunk edited at random: a byte inserted, removed or replaced, a decoy delta or model, braces
          // and quotes broken inside strings. Most are no longer JSON; some still are, and read differently.
          adversarial++;
          const source = pick([plain, plain, role, finish])(text());
          const at = Math.floor(random() * source.length);
          const edit = random();
          data =
            edit < 0.4
              ? source.slice(0, at) + pick(EDITS) + source.slice(at)
              : edit < 0.7
                ? source.slice(0, at) + source.slice(at + 1 + Math.floor(random() * 3))
                : source.slice(0, at) + pick(EDITS) + source.slice(at + 1);
          if (template && readWithTemplate(template, data) !== undefined) fastReadable++;
          if (shared.readWhole(data) !== undefined) wholeReadable++;
        }
        events.push(data);
      }
      if (random() < 0.9) events.push('[DONE]');
      const fast = run(stream % 2 === 0 ? openAiStreamReader() : openAiStreamReader({ templates: shared }), events);
      const full = run(openAiStreamReader({ fastPath: false }), events);
      expect(fast).toEqual(full);
    }
    // The fuzz reaches the fast path with edited chunks, not only with well-formed ones.
    expect(adversarial).toBeGreaterThan(10_000);
    expect(fastReadable).toBeGreaterThan(200);
    expect(wholeReadable).toBeGreaterThan(300);
  });

  it('decides every chunk as the full parse does when streams sharing templates interleave (each keeps its own start)', () => {
    const random = createRandom(28);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const text = (): string => Array.from({ length: Math.floor(random() * 4) }, () => pick(PIECES)).join('');
    const shared = new TemplateMemory();
    for (let group = 0; group < 300; group++) {
      // Three streams at once, each its own id and created; a few of another model; their chunks in a random order.
      const streams = Array.from({ length: 3 }, (_, k) => {
        const id = random() < 0.2 ? 'c' : `chatcmpl-${group}-${k}`;
        const model = random() < 0.85 ? MODEL : 'm2';
        const created = 1767225600 + Math.floor(random() * 3);
        const plain = (content: string): string =>
          JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
        const events = [JSON.stringify({ id, created, model, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })];
        for (let i = 0; i < 12; i++) {
          const source = plain(text());
          const roll = random();
          if (roll < 0.8) events.push(source);
          else {
            const at = Math.floor(random() * source.length);
            events.push(roll < 0.9 ? source.slice(0, at) + pick(EDITS) + source.slice(at) : source.slice(0, at) + pick(EDITS) + source.slice(at + 1));
          }
        }
        events.push(JSON.stringify({ id, created, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), '[DONE]');
        return { events, fast: openAiStreamReader({ templates: shared }), steps: [] as StreamStep[] };
      });
      const next = streams.map(() => 0);
      for (;;) {
        const open = streams.map((_, k) => k).filter((k) => (next[k] as number) < (streams[k]?.events.length as number));
        if (open.length === 0) break;
        const k = pick(open);
        const stream = streams[k] as (typeof streams)[number];
        const data = stream.events[next[k] as number] as string;
        next[k] = (next[k] as number) + 1;
        stream.steps.push(stream.fast.event({ data, event: undefined }));
      }
      for (const stream of streams) {
        const fast = { steps: stream.steps, end: stream.fast.finish() };
        expect(fast).toEqual(run(openAiStreamReader({ fastPath: false }), stream.events));
      }
    }
  });
});
