// validate warns of an arm's request.params spelled for one OpenAI API only: a Responses API name breaks every chat
// request, and a chat completions name with no Responses spelling is left out of the proxy's /v1/responses requests.
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const plan = (params: string, extra = 'proxy: {}', api = 'openai') =>
  planFromYaml(`
name: param-spelling
upstream:
  api: ${api}
  simulate: { models: { a: {}, b: {} } }
blue: { model: a }
green: { model: b, request: { params: ${params} } }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
${extra}
`);
const paramWarnings = (params: string, extra?: string, api?: string) =>
  planWarnings(plan(params, extra, api)).filter((warning) => warning.keyPath.startsWith('green.request.params'));

describe('request.params spelled for one OpenAI API', () => {
  it('a Responses API name: warned on any OpenAI plan, with the chat spelling the proxy translates when there is one', () => {
    expect(paramWarnings('{ text: { verbosity: low }, instructions: "Be brief" }', '')).toEqual([
      {
        keyPath: 'green.request.params.text',
        message:
          "is a Responses API parameter: chat completions answers every green request carrying it 400 (generated traffic, the proxy's /v1/chat/completions); write it as chat completions spells it (verbosity), which the proxy sends on /v1/responses as text",
      },
      {
        keyPath: 'green.request.params.instructions',
        message:
          "is a Responses API parameter: chat completions answers every green request carrying it 400 (generated traffic, the proxy's /v1/chat/completions)",
      },
    ]);
  });

  it('a chat completions name with no Responses spelling: warned when the proxy serves both APIs', () => {
    expect(paramWarnings('{ seed: 7, verbosity: low, temperature: 0.2 }')).toEqual([
      {
        keyPath: 'green.request.params.seed',
        message: "has no Responses API spelling: the proxy sets it on green's chat completions requests only, and sends its /v1/responses requests without it",
      },
    ]);
    // No proxy (generated traffic is chat completions), or an Anthropic plan: nothing to say.
    expect(paramWarnings('{ seed: 7 }', '')).toEqual([]);
    expect(paramWarnings('{ stop: ["x"], text: 1 }', 'proxy: {}', 'anthropic')).toEqual([]);
  });
});
