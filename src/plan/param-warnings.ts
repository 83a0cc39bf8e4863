// An arm's request.params written in one OpenAI API's spelling: chat completions refuses the Responses API's
// names (400 for every request), and the proxy's /v1/responses requests go without chat completions' names that
// API has no spelling for (param-spelling.ts translates the others).
import { isAzureV1 } from '../upstream/azure.js';
import { CHAT_ONLY_PARAMS, RESPONSES_ONLY_PARAMS } from '../upstream/param-spelling.js';
import { ARMS, type Plan } from './plan.js';
import type { PlanWarning } from './warnings.js';

/** The chat completions spelling of a Responses API name, where it has one the proxy translates back. */
const CHAT_SPELLING: Readonly<Record<string, string>> = {
  text: 'verbosity',
  reasoning: 'reasoning_effort',
  max_output_tokens: 'max_completion_tokens',
};

/** The plan's proxy serves the Responses API too: both arms are OpenAI(-compatible) with a path for it. */
function proxyServesResponses(plan: Plan): boolean {
  if (plan.proxy === undefined) return false;
  return ARMS.every((arm) => {
    const { api, baseUrl } = plan.arms[arm].upstream;
    return api === 'openai' || (api === 'azure' && baseUrl !== undefined && isAzureV1(baseUrl));
  });
}

export function oneApiParams(plan: Plan): PlanWarning[] {
  const responses = proxyServesResponses(plan);
  const warnings: PlanWarning[] = [];
  for (const arm of ARMS) {
    const { api, request } = plan.arms[arm].upstream;
    if (api === 'anthropic') continue;
    for (const key of Object.keys(request.params)) {
      const keyPath = `${arm}.request.params.${key}`;
      if (RESPONSES_ONLY_PARAMS.has(key)) {
        const chat = CHAT_SPELLING[key];
        const fix = chat === undefined ? '' : `; write it as chat completions spells it (${chat}), which the proxy sends on /v1/responses as ${key}`;
        warnings.push({
          keyPath,
          message: `is a Responses API parameter: chat completions answers every ${arm} request carrying it 400 (generated traffic, the proxy's /v1/chat/completions)${fix}`,
        });
      } else if (responses && CHAT_ONLY_PARAMS.has(key)) {
        warnings.push({
          keyPath,
          message: `has no Responses API spelling: the proxy sets it on ${arm}'s chat completions requests only, and sends its /v1/responses requests without it`,
        });
      }
    }
  }
  return warnings;
}
