// The model rewrite: the application's bytes with only the model's value replaced, or parse + stringify when
// the scan cannot place it with certainty.
import { describe, expect, it } from 'vitest';
import type { ForwardTarget } from '../../src/proxy/forward-types.js';
import { createRandom } from '../../src/core/random.js';
import { bodyForArm, modelValueSpan, passthroughBody } from '../../src/proxy/rewrite.js';

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

describe('the spellings a splice depends on (one scan)', () => {
  const target = {
    bodyModel: 'green-model',
    keepsBody: () => true,
    prepare: (body: Record<string, unknown>) => ({ ...body, model: 'green-model' }),
  } as unknown as ForwardTarget;
  const forArm = (text: string) => bodyForArm(Buffer.from(text), text, JSON.parse(text) as Record<string, unknown>, target);
  const passed = (text: string) => passthroughBody(Buffer.from(text), text, JSON.parse(text) as Record<string, unknown>);

  it('counts "model" and "stream" after a \\u escape as before it', () => {
    // A second stream key after an escape: re-serialised (the upstream could read either).
    const streams = '{"messages":[{"content":"\\u00e9"}],"model":"blue-model","stream":true,"stream":false}';
    expect(Buffer.isBuffer(forArm(streams))).toBe(false);
    expect(JSON.parse(forArm(streams) as string)).toEqual({ messages: [{ content: '\u00e9' }], model: 'green-model', stream: false });
    expect(Buffer.isBuffer(passed(streams))).toBe(false);
    // A nested "model" after an escape: the top-level one is still placed by the walk, the rest kept as written.
    const nested = '{"content":"\\u00e9","model":"blue-model","metadata":{"model":"b"}}';
    expect(forArm(nested)).toBe(nested.replace('"blue-model"', '"green-model"'));
    expect(passed(nested)).toEqual(Buffer.from(nested));
    // One model and one stream, plainly: the bytes as they came.
    const plain = '{"model":"p","stream":true,"messages":[{"role":"user","content":"say \\"stream\\" and model"}]}';
    expect(passed(plain)).toEqual(Buffer.from(plain));
  });

  it('splices the model key however it is spaced and its value escaped, placed by the scan or (spelled twice) the walk', () => {
    const spaced = '{ "messages" : [ {"role":"user","content":"x"} ],\n\t"model" :\t "a\\"b\\\\" , "n":1}';
    expect(forArm(spaced)).toBe(spaced.replace('"a\\"b\\\\"', '"green-model"'));
    const last = '{"messages":[],"tools":[{"name":"model"}],"model":"blue-model"}';
    expect(forArm(last)).toBe(last.replace('"blue-model"', '"green-model"'));
  });

  it('decides as separate searches for each spelling did (seeded fuzz of bodies naming model and stream in many places)', () => {
    // The decision before the one scan: indexOf for "model" and "stream" twice each, includes for \u.
    const once = (text: string, key: string) => text.indexOf(key, text.indexOf(key) + 1) < 0;
    const reference = (text: string, body: Record<string, unknown>, model: string): string => {
      const json = `json ${JSON.stringify({ ...body, model })}`;
      if (text.includes('"stream"') && !once(text, '"stream"')) return json;
      const modelOnce = once(text, '"model"') && !text.includes('\\u');
      if (body.model === model && modelOnce) return `raw ${text}`;
      const span = modelValueSpan(text);
      if (!span) return json;
      return body.model === model ? `raw ${text}` : `splice ${text.slice(0, span[0])}${JSON.stringify(model)}${text.slice(span[1])}`;
    };
    const random = createRandom(28);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const keys = ['model', 'stream', 'messages', 'mod\\u0065l', 'str\\u0065am', 'metadata', 'content'];
    const values = [
      '"blue-model"',
      '"green-model"',
      'true',
      'false',
      '"model"',
      '"stream"',
      '"\\u00e9"',
      '"a\\"model\\"b"',
      '{"model":"x"}',
      '[{"stream":"y"}]',
      '3',
    ];
    let decided = 0;
    for (let i = 0; i < 3000; i++) {
      const entries = Array.from({ length: 1 + Math.floor(random() * 5) }, () => `"${pick(keys)}":${pick(values)}`);
      const text = `{${entries.join(',')}}`;
      const body = JSON.parse(text) as Record<string, unknown>;
      if (typeof body.model !== 'string') continue;
      decided++;
      for (const model of ['green-model', 'blue-model']) {
        const arm = { ...target, bodyModel: model, prepare: (b: Record<string, unknown>) => ({ ...b, model }) } as unknown as ForwardTarget;
        const got = bodyForArm(Buffer.from(text), text, body, arm);
        const expected = reference(text, body, model);
        const kind = Buffer.isBuffer(got) ? 'raw' : expected.startsWith('json') ? 'json' : 'splice';
        expect(`${kind} ${got.toString()}`, text).toBe(expected);
      }
      const streamOnce = !text.includes('"stream"') || once(text, '"stream"');
      const passes = streamOnce && ((once(text, '"model"') && !text.includes('\\u')) || modelValueSpan(text) !== undefined);
      expect(Buffer.isBuffer(passed(text)), text).toBe(passes);
    }
    expect(decided).toBeGreaterThan(500);
  });
});
