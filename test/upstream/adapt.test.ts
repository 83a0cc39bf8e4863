// Per-arm request adaptation: defaults by model name, the plan's settings, and the 400 hints that name a plan key.
import { describe, expect, it } from 'vitest';
import type { ArmRequestSettings } from '../../src/plan/plan.js';
import { adaptOpenAiBody, describeAdaptation, isReasoningModel, resolveAdaptation } from '../../src/upstream/adapt.js';
import { paramFix, rejectedParam } from '../../src/upstream/describe.js';

const body = { model: 'x', messages: [{ role: 'user', content: 'hi' }], max_tokens: 200, temperature: 0.3, top_p: 0.9, seed: 7 };
const settings = (over: Partial<ArmRequestSettings> = {}): ArmRequestSettings => ({ tokenParam: 'auto', params: {}, ...over });

describe('isReasoningModel', () => {
  it.each([
    ['o1', true],
    ['o1-mini', true],
    ['o3', true],
    ['o3-pro-2025-06-10', true],
    ['o4-mini', true],
    ['gpt-5', true],
    ['gpt-5-mini', true],
    ['gpt-5.1', true],
    ['openai/o3-mini', true],
    ['gpt-5-chat-latest', false],
    ['gpt-4o', false],
    ['gpt-4.1', false],
    ['omni-moderation-latest', false],
    ['claude-sonnet-4-5', false],
    ['deepseek/deepseek-chat', false],
  ])('%s -> %s', (model, expected) => {
    expect(isReasoningModel(model)).toBe(expected);
  });
});

describe('adaptOpenAiBody', () => {
  it('leaves a classic model alone', () => {
    expect(adaptOpenAiBody(body, resolveAdaptation('gpt-4o'))).toEqual(body);
  });

  it('moves the limit to max_completion_tokens and drops sampling parameters on a reasoning model', () => {
    const out = adaptOpenAiBody(body, resolveAdaptation('o3'));
    expect(out).toEqual({ model: 'x', messages: body.messages, max_completion_tokens: 200, seed: 7 });
    expect(body.temperature).toBe(0.3); // the input is not changed
  });

  it('gives gpt-5-chat max_completion_tokens but keeps its temperature', () => {
    expect(adaptOpenAiBody(body, resolveAdaptation('gpt-5-chat-latest'))).toMatchObject({ max_completion_tokens: 200, temperature: 0.3, top_p: 0.9 });
  });

  it('follows the plan: token_param, drop (replacing the default), reasoning_effort and params', () => {
    const adaptation = resolveAdaptation(
      'o4-mini',
      settings({ tokenParam: 'max_tokens', drop: ['seed'], reasoningEffort: 'low', params: { verbosity: 'low' } }),
    );
    expect(adaptOpenAiBody(body, adaptation)).toEqual({
      model: 'x',
      messages: body.messages,
      max_tokens: 200,
      temperature: 0.3,
      top_p: 0.9,
      reasoning_effort: 'low',
      verbosity: 'low',
    });
  });

  it('sends a parameter the plan sets even if the model default would drop it', () => {
    const out = adaptOpenAiBody(body, resolveAdaptation('o3', settings({ params: { temperature: 1 } })));
    expect(out.temperature).toBe(1);
  });

  it('takes a recorded max_completion_tokens as the limit and never sends both fields', () => {
    const out = adaptOpenAiBody({ max_completion_tokens: 50, max_tokens: 99 }, resolveAdaptation('gpt-4o'));
    expect(out).toEqual({ max_tokens: 50 });
  });
});

describe('400 hints', () => {
  it('reads the parameter from OpenAI, Anthropic and Gemini errors', () => {
    expect(rejectedParam({ param: 'max_tokens', message: 'Unsupported parameter' })).toBe('max_tokens');
    expect(rejectedParam({ message: "Unsupported value: 'temperature' does not support 0.3 with this model." })).toBe('temperature');
    expect(rejectedParam({ message: 'top_k: Input should be a valid integer' })).toBe('top_k');
    expect(rejectedParam({ message: 'Invalid JSON payload received. Unknown name "logit_bias": Cannot find field.' })).toBe('logit_bias');
    expect(rejectedParam({ message: 'Unrecognized request argument supplied: stream_options' })).toBe('stream_options');
    expect(rejectedParam({ message: 'messages.1.content: Field required' })).toBeUndefined();
    expect(rejectedParam({ param: 'prompt', code: 'content_filter', message: 'filtered' })).toBeUndefined();
    expect(rejectedParam({ message: 'Something else went wrong' })).toBeUndefined();
  });

  it('names the plan key that fixes it', () => {
    expect(paramFix('green', 'max_tokens')).toBe('set green.request.token_param: max_completion_tokens');
    expect(paramFix('blue', 'max_completion_tokens')).toBe('set blue.request.token_param: max_tokens');
    expect(paramFix('green', 'reasoning_effort')).toBe('remove green.request.reasoning_effort');
    expect(paramFix('green', 'top_p')).toBe('add top_p to green.request.drop');
  });
});

describe('describeAdaptation', () => {
  it('says what a reasoning arm gets, and nothing for a classic one', () => {
    expect(describeAdaptation(resolveAdaptation('o3', settings({ reasoningEffort: 'low' })), 'openai')).toBe(
      'max_completion_tokens instead of max_tokens; reasoning_effort: "low"; never sent: temperature, top_p, presence_penalty, frequency_penalty, logprobs, top_logprobs, logit_bias',
    );
    expect(describeAdaptation(resolveAdaptation('gpt-4o'), 'openai')).toBeUndefined();
    expect(describeAdaptation(resolveAdaptation('claude-sonnet-4-5', settings({ drop: ['temperature'] })), 'anthropic')).toBe('never sent: temperature');
  });
});
