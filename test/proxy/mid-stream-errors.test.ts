// Green failing mid-stream with an error event, after its first chunk went to the client: the client gets the
// event as the upstream sent it (its SDK throws), and the attempt counts as green's bad_response in the
// figures and in the results feed the rollout judges, also when the SDK closes the connection on the event
// before the upstream ends its stream.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';
import { until } from '../helpers/until.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const ANTHROPIC_START =
  sse('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'green-model',
      content: [],
      stop_reason: null,
      usage: { input_tokens: 3, output_tokens: 1 },
    },
  }) +
  sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
  sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } });
const ANTHROPIC_ERROR = sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });

const openAiChunk = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const OPENAI_START = openAiChunk({
  id: 'c1',
  object: 'chat.completion.chunk',
  model: 'green-model',
  choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' } }],
});
const OPENAI_ERROR = openAiChunk({ error: { message: 'The server had an error while processing your request', type: 'server_error', code: null } });

/**
 * A green upstream that sends the stream's start, then (once the client has it) the error event in a later
 * chunk; with `end: false` it keeps the stream open after the event, so only the client's leaving ends it.
 */
async function failingMidStream(api: 'openai' | 'anthropic', end: boolean): Promise<{ running: Running; sendError: () => void }> {
  let response: ServerResponse | undefined;
  const scripted = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(api === 'anthropic' ? ANTHROPIC_START : OPENAI_START);
    response = res;
  });
  const proxy = `{ fallback: true, admin: { token_env: ADMIN_TOKEN } }`;
  const running = await runProxy(scriptedPlan(scripted.url, { api, proxy }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
  setRoute(running.proxy, 1);
  return {
    running,
    sendError: () => {
      const event = api === 'anthropic' ? ANTHROPIC_ERROR : OPENAI_ERROR;
      if (end) (response as ServerResponse).end(event);
      else (response as ServerResponse).write(event);
    },
  };
}

async function feed(running: Running): Promise<FeedAnswer> {
  const res = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return (await res.json()) as FeedAnswer;
}

/** The attempt is green's bad_response everywhere the rollout looks, and no client abort. */
async function expectGreenBadResponse(running: Running): Promise<void> {
  await until(() => running.proxy.metrics.snapshot().arms.green.failures === 1, "green's failure recorded");
  const figures = running.proxy.metrics.snapshot();
  expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
  expect(figures.arms.green.clientAborts).toBe(0);
  expect(figures.fallbacks).toBe(0);
  const { results } = await feed(running);
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({ kind: 'routed', result: { arm: 'green', ok: false, failure: 'bad_response' } });
  expect(results[0]?.result.errorMessage).toContain('the stream carried an error');
}

describe('an Anthropic error event after message_start, in a later chunk', () => {
  it.each([
    ['and the upstream ends the stream', true],
    ['and the client closes first (the upstream keeps the stream open)', false],
  ])("reaches the @anthropic-ai/sdk client as sent and counts as green's bad_response, %s", async (_what, end) => {
    const { running, sendError } = await failingMidStream('anthropic', end);
    const stream = new Anthropic({ baseURL: running.proxy.url, apiKey: 'unused', maxRetries: 0 }).messages.stream({
      model: 'blue-model',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
      sendError();
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(text).toBe('Hello');
    // The SDK raises the upstream's own error, type and message as it sent them.
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    await expectGreenBadResponse(running);
  });
});

describe('an OpenAI-style error chunk after the first chunk', () => {
  it.each([
    ['and the upstream ends the stream', true],
    ['and the client closes first (the upstream keeps the stream open)', false],
  ])("reaches the openai client as sent and counts as green's bad_response, %s", async (_what, end) => {
    const { running, sendError } = await failingMidStream('openai', end);
    const stream = await new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({
      model: 'blue-model',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        sendError();
      }
    })().catch((e: unknown) => e);
    expect(text).toBe('Hello');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toBe('The server had an error while processing your request');
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    await expectGreenBadResponse(running);
  });
});
