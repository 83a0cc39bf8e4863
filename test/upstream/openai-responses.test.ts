// The Responses API readers: whole answers and streams, into the reply chat answers are read into.
import { describe, expect, it } from 'vitest';
import { parseResponses, responsesStreamReader } from '../../src/upstream/openai-responses.js';

const message = (text: string) => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
const usage = { input_tokens: 10, output_tokens: 4, total_tokens: 14 };
const response = (extra: Record<string, unknown>) => ({
  id: 'resp_1',
  object: 'response',
  model: 'gpt-4.1',
  status: 'completed',
  output: [message('Hi there')],
  usage,
  ...extra,
});

function streamOf(events: Record<string, unknown>[]) {
  const reader = responsesStreamReader();
  const steps = events.map((data) => reader.event({ event: data.type as string, data: JSON.stringify(data) }));
  return { steps, outcome: reader.finish() };
}

describe('parseResponses', () => {
  it('reads text, usage, model, id and finish stop', () => {
    expect(parseResponses(response({}))).toEqual({
      ok: true,
      reply: {
        content: 'Hi there',
        usage: { promptTokens: 10, completionTokens: 4, totalTokens: 14 },
        servedModel: 'gpt-4.1',
        responseId: 'resp_1',
        finishReason: 'stop',
      },
    });
  });

  it('reads tool calls (function and custom), reasoning summaries and refusals', () => {
    const read = parseResponses(
      response({
        output: [
          { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }] },
          { type: 'function_call', name: 'f', arguments: '{}' },
          { type: 'custom_tool_call', name: 'g', input: 'x' },
          { type: 'web_search_call', status: 'completed' },
          { type: 'message', content: [{ type: 'refusal', refusal: 'no' }] },
        ],
      }),
    );
    expect(read.ok && read.reply).toMatchObject({ content: '', toolCalls: 2, reasoningChars: 8, refusal: true, finishReason: 'tool_calls' });
  });

  it('finishes incomplete answers by their reason, and fails failed, unfinished and empty ones', () => {
    const incomplete = (reason: string) => parseResponses(response({ status: 'incomplete', incomplete_details: { reason } }));
    expect(incomplete('max_output_tokens')).toMatchObject({ ok: true, reply: { finishReason: 'length' } });
    expect(incomplete('content_filter')).toMatchObject({ ok: true, reply: { finishReason: 'content_filter' } });
    expect(parseResponses(response({ status: 'failed', error: { code: 'server_error', message: 'boom' } }))).toEqual({
      ok: false,
      reason: 'the response failed: boom',
    });
    expect(parseResponses(response({ status: 'queued' }))).toMatchObject({ ok: false, reason: expect.stringContaining('not finished (status queued') });
    expect(parseResponses(response({ output: [] }))).toEqual({ ok: false, reason: 'the response has no output' });
    expect(parseResponses([])).toEqual({ ok: false, reason: 'the body is not a JSON object' });
  });
});

describe('responsesStreamReader', () => {
  const created = { type: 'response.created', response: { id: 'resp_2', model: 'gpt-4.1', status: 'in_progress', output: [] } };
  const delta = (text: string) => ({ type: 'response.output_text.delta', delta: text });

  it('reads deltas as text and the end from response.completed', () => {
    const { steps, outcome } = streamOf([created, delta('Hel'), delta('lo'), { type: 'response.completed', response: response({ id: 'resp_2' }) }]);
    expect(steps.map((s) => s.delta ?? null)).toEqual([null, 'Hel', 'lo', null]);
    expect(steps.at(-1)).toEqual({ done: true });
    expect(outcome).toMatchObject({ ok: true, reply: { content: 'Hello', responseId: 'resp_2', finishReason: 'stop', usage: { completionTokens: 4 } } });
  });

  it('marks a tool call item as output (the first token), and counts it', () => {
    const { steps, outcome } = streamOf([
      created,
      { type: 'response.output_item.added', item: { type: 'function_call', name: 'f', arguments: '' } },
      { type: 'response.function_call_arguments.delta', delta: '{"a":1}' },
      { type: 'response.completed', response: response({ output: [{ type: 'function_call', name: 'f', arguments: '{"a":1}' }] }) },
    ]);
    expect(steps[1]).toEqual({ output: true });
    expect(outcome).toMatchObject({ ok: true, reply: { content: '', toolCalls: 1, finishReason: 'tool_calls' } });
  });

  it("marks a built-in tool's item as output (not a tool call), a message's or a reasoning's not", () => {
    const { steps, outcome } = streamOf([
      created,
      { type: 'response.output_item.added', item: { type: 'reasoning', summary: [] } },
      { type: 'response.output_item.added', item: { type: 'image_generation_call', status: 'in_progress' } },
      { type: 'response.output_item.added', item: { type: 'message', role: 'assistant', content: [] } },
      { type: 'response.completed', response: response({}) },
    ]);
    expect(steps.slice(1, 4)).toEqual([{}, { output: true }, {}]);
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.ok && outcome.reply.toolCalls).toBeFalsy();
  });

  it('ends incomplete as length, and fails on response.failed, an error event, or no end', () => {
    const incomplete = streamOf([
      created,
      delta('Hi'),
      { type: 'response.incomplete', response: response({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }) },
    ]);
    expect(incomplete.outcome).toMatchObject({ ok: true, reply: { finishReason: 'length', content: 'Hi' } });
    const failed = streamOf([created, { type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'boom' } } }]);
    expect(failed.steps[1]).toEqual({ error: 'the stream carried a failed response: boom' });
    expect(streamOf([{ type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null }]).steps[0]).toEqual({
      error: 'the stream carried an error: slow down',
    });
    expect(streamOf([created, delta('Hi')]).outcome).toEqual({ ok: false, reason: 'the stream ended without response.completed' });
  });
});
