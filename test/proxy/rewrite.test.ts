// The model rewrite: the application's bytes with only the model's value replaced, or parse + stringify when
// the scan cannot place it with certainty.
import { describe, expect, it } from 'vitest';
import type { ForwardTarget } from '../../src/proxy/forward-types.js';
import { bodyForArm, modelValueSpan } from '../../src/proxy/rewrite.js';

const valueAt = (text: string): string | undefined => {
  const span = modelValueSpan(text);
  return span && text.slice(span[0], span[1]);
};

describe('modelValueSpan', () => {
  it('finds the top-level model value wherever the key sits, with any spacing', () => {
    expect(valueAt('{"model":"gpt-4o","messages":[]}')).toBe('"gpt-4o"');
    expect(valueAt('{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}')).toBe('"gpt-4o"');
    expect(valueAt('{ "stream" : true ,\n\t"model" :  "a\\"b" }')).toBe('"a\\"b"');
  });

  it('skips "model" keys nested in messages, tools and metadata, and "model" as a value', () => {
    const text = JSON.stringify({
      messages: [{ role: 'model', content: 'say "model": "x" and \\"model\\"' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { properties: { model: { type: 'string' } } } } }],
      metadata: { model: 'not-this' },
      model: 'this-one',
    });
    expect(valueAt(text)).toBe('"this-one"');
  });

  it('gives up on an escaped top-level key, a duplicate key, or a model that is not a string', () => {
    expect(modelValueSpan('{"mod\\u0065l":"a","metadata":{"model":"b"}}')).toBeUndefined();
    expect(modelValueSpan('{"model":"a","model":"b"}')).toBeUndefined();
    expect(modelValueSpan('{"model":null}')).toBeUndefined();
    expect(modelValueSpan('{"messages":[]}')).toBeUndefined();
  });
});

describe('bodyForArm', () => {
  const target = (keeps: boolean): ForwardTarget =>
    ({
      bodyModel: 'green-model',
      keepsBody: () => keeps,
      prepare: (body: Record<string, unknown>) => ({ ...body, model: 'green-model', adapted: true }),
    }) as unknown as ForwardTarget;
  const text = '{"messages":[{"role":"user","content":"caf\u00e9 \\u00e9"}],  "model": "blue-model", "temperature":0.5}';
  const raw = Buffer.from(text);
  const body = JSON.parse(text) as Record<string, unknown>;

  it('replaces only the bytes of the model value, keeping the rest as the application wrote it', () => {
    expect(bodyForArm(raw, text, body, target(true))).toBe(text.replace('"blue-model"', '"green-model"'));
  });

  it('sends the bytes unchanged when the model is already the arm’s', () => {
    const same = { ...body, model: 'green-model' };
    expect(bodyForArm(raw, text, same, target(true))).toBe(raw);
  });

  it('re-serialises when the arm adapts the body, or the model cannot be placed', () => {
    expect(JSON.parse(bodyForArm(raw, text, body, target(false)) as string)).toEqual({ ...body, model: 'green-model', adapted: true });
    const escaped = '{"mod\\u0065l":"blue-model"}';
    expect(JSON.parse(bodyForArm(Buffer.from(escaped), escaped, { model: 'blue-model' }, target(true)) as string)).toEqual({
      model: 'green-model',
      adapted: true,
    });
  });
});
