// An application's SDK pointed at the wrong proxy, or given the wrong base URL: the 404 says what went wrong, not
// only the list of paths the proxy serves (a newcomer's mistakes, docs/proxy.md "Point the application at it").
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { runProxy, simPlan } from './helpers.js';

const ask = { max_tokens: 16, messages: [{ role: 'user' as const, content: 'hello there' }] };

/** The message of the error the SDK call failed with (every case here is a 404). */
async function notFound(call: Promise<unknown>, type: typeof OpenAI.NotFoundError | typeof Anthropic.NotFoundError): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return (error as Error).message;
}

describe('an SDK sent to a proxy of the other dialect, or with the wrong base URL', () => {
  it("on an OpenAI plan's proxy: the Anthropic SDK is told the dialects differ, the OpenAI SDK without /v1 where it goes", async () => {
    const running = await runProxy(simPlan());
    const anthropic = new Anthropic({ baseURL: running.proxy.url, apiKey: 'unused', maxRetries: 0 });
    expect(await notFound(anthropic.messages.create({ model: 'gpt-4o', ...ask }), Anthropic.NotFoundError)).toContain(
      "not POST /v1/messages: that is Anthropic's Messages API, and this proxy speaks OpenAI's (its plan's upstream.api) without translating: an Anthropic SDK needs a proxy of a plan whose upstream.api is anthropic",
    );
    const openai = new OpenAI({ baseURL: running.proxy.url, apiKey: 'unused', maxRetries: 0 });
    expect(await notFound(openai.chat.completions.create({ model: 'gpt-4o', ...ask }), OpenAI.NotFoundError)).toContain(
      "not POST /chat/completions: the OpenAI SDK's base URL ends in /v1 (http://HOST:PORT/v1)",
    );
    expect(running.proxy.metrics.snapshot().rejected.not_found).toBe(2);
  });

  it("the other dialect is said first, whatever the base URL did to /v1 (the other demo proxy's address copied)", async () => {
    const openaiPlan = await runProxy(simPlan());
    // The OpenAI base URL (with /v1) given to the Anthropic SDK: told the dialects differ, not only that /v1 is twice.
    const anthropic = new Anthropic({ baseURL: `${openaiPlan.proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    expect(await notFound(anthropic.messages.create({ model: 'gpt-4o', ...ask }), Anthropic.NotFoundError)).toContain(
      "not POST /v1/v1/messages: that is Anthropic's Messages API, and this proxy speaks OpenAI's",
    );
    const anthropicPlan = await runProxy(simPlan({ api: 'anthropic' }));
    // The Anthropic base URL (without /v1) given to the OpenAI SDK: it had no hint at all.
    const openai = new OpenAI({ baseURL: anthropicPlan.proxy.url, apiKey: 'unused', maxRetries: 0 });
    expect(await notFound(openai.chat.completions.create({ model: 'claude-blue', ...ask }), OpenAI.NotFoundError)).toContain(
      "not POST /chat/completions: that is OpenAI's API, and this proxy speaks Anthropic's (its plan's upstream.api) without translating",
    );
  });

  it("on an Anthropic plan's proxy: the OpenAI SDK is told the dialects differ, the Anthropic SDK given /v1 that it adds its own", async () => {
    const running = await runProxy(simPlan({ api: 'anthropic' }));
    const openai = new OpenAI({ baseURL: `${running.proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    expect(await notFound(openai.chat.completions.create({ model: 'claude-blue', ...ask }), OpenAI.NotFoundError)).toContain(
      "not POST /v1/chat/completions: that is OpenAI's API, and this proxy speaks Anthropic's (its plan's upstream.api) without translating: an OpenAI SDK needs a proxy of a plan whose upstream.api is openai (or azure)",
    );
    const anthropic = new Anthropic({ baseURL: `${running.proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    expect(await notFound(anthropic.messages.create({ model: 'claude-blue', ...ask }), Anthropic.NotFoundError)).toContain(
      "not POST /v1/v1/messages: its path has /v1 twice: the base URL ends in /v1 and the SDK adds its own (the Anthropic SDK takes the proxy's address without /v1)",
    );
  });
});
