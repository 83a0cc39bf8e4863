// The fast path for plain OpenAI content chunks: the same text JSON.parse would give, and undefined (parse in
// full) whenever the chunk may carry anything else.
import { describe, expect, it } from 'vitest';
import { openAiDialect } from '../../src/upstream/openai.js';
import { modelField, plainContentDelta } from '../../src/upstream/openai-delta.js';

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

describe('plainContentDelta', () => {
  it('reads the text of a plain content chunk, escapes included, as JSON.parse does', () => {
    for (const text of ['Hello', ' world', '', 'say "hi"\n', 'caf\u00e9 \u{1f600}', 'back\\slash', '"', '\\']) {
      expect(plainContentDelta(chunk({ content: text }), modelField(MODEL))).toBe(text);
    }
    expect(plainContentDelta('{"model":"m","choices":[{"delta":{"content":"\\u00e9\\""}}]}', modelField('m'))).toBe('\u00e9"');
  });

  it('gives undefined for any chunk that may carry more than text', () => {
    const cases = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'x' }, {}, 'stop'),
      chunk({ content: 'x' }, { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
      chunk({ content: 'x', tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      chunk({ content: 'x', reasoning_content: 'because' }),
      chunk({ content: '', refusal: 'no' }),
      chunk({ content: 'x' }, { error: { message: 'boom' } }),
      chunk({ content: 'x' }, { model: 'another-model' }),
      '{"model":"gpt-4o-2024-08-06","choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}',
      '{"model":"gpt-4o-2024-08-06","choices":[{"delta": {"content":"a"}}]}',
    ];
    for (const data of cases) expect(plainContentDelta(data, modelField(MODEL))).toBeUndefined();
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
    const deltas = events.map((data) => reader.event({ data, event: undefined, id: undefined }).delta);
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
