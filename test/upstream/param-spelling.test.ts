// A plan's request.params, written in chat completions' spelling, as the Responses API spells them.
import { describe, expect, it } from 'vitest';
import { adaptResponsesBody, resolveAdaptation } from '../../src/upstream/adapt.js';
import { responsesParams } from '../../src/upstream/param-spelling.js';
import type { ArmRequestSettings } from '../../src/plan/plan.js';

const settings = (params: Record<string, unknown>, extra: Partial<ArmRequestSettings> = {}): ArmRequestSettings => ({ tokenParam: 'auto', params, ...extra });

describe('responsesParams', () => {
  it('nests verbosity and reasoning_effort, renames token limits, leaves out names with no spelling, keeps the rest', () => {
    expect(
      responsesParams({ verbosity: 'low', reasoning_effort: 'high', max_completion_tokens: 50, seed: 1, stop: ['x'], temperature: 0.2, top_k: 5 }),
    ).toEqual({
      set: { max_output_tokens: 50, temperature: 0.2, top_k: 5 },
      within: { text: { verbosity: 'low' }, reasoning: { effort: 'high' } },
      left: ['seed', 'stop'],
    });
    // Written in the Responses spelling already: merged the same way.
    expect(responsesParams({ text: { verbosity: 'low' }, reasoning: { summary: 'auto' }, reasoning_effort: 'low' })).toEqual({
      set: {},
      within: { text: { verbosity: 'low' }, reasoning: { summary: 'auto', effort: 'low' } },
      left: [],
    });
  });
});

describe('adaptResponsesBody', () => {
  it("merges the arm's fields into the application's text and reasoning objects, which keep their own", () => {
    const adaptation = resolveAdaptation('gpt-5', settings({ verbosity: 'low', seed: 3 }, { reasoningEffort: 'minimal' }));
    const body = { model: 'gpt-5', input: 'hi', temperature: 0.3, text: { format: { type: 'json_object' } }, reasoning: { summary: 'auto' } };
    expect(adaptResponsesBody(body, adaptation)).toEqual({
      model: 'gpt-5',
      input: 'hi',
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      reasoning: { summary: 'auto', effort: 'minimal' },
    });
    // The application's body is not changed.
    expect(body.text).toEqual({ format: { type: 'json_object' } });
    expect(adaptResponsesBody({ model: 'gpt-4o', input: 'hi', text: 'not an object' }, resolveAdaptation('gpt-4o', settings({ verbosity: 'high' })))).toEqual({
      model: 'gpt-4o',
      input: 'hi',
      text: { verbosity: 'high' },
    });
  });
});
