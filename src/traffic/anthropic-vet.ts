// Sampled requests (recorded in OpenAI's shape) on an Anthropic arm: those that cannot be converted faithfully are
// skipped like unusable lines, and the parameters Anthropic has no counterpart for are counted for a warning. One
// copy for the rollout's traffic (mix.ts) and for validate's and --dry-run's read of the file (sampled-check.ts),
// so they skip and warn alike.
import type { ChatRequest } from '../upstream/types.js';
import { toAnthropic } from './to-anthropic.js';

/** Parameter name -> requests that carried it with no Anthropic counterpart. */
export type DroppedParams = Map<string, number>;

/**
 * Why a request cannot go to an Anthropic arm, or undefined; counts its dropped parameters into `dropped` while
 * `counting()` (the file's first pass: a file replayed in a loop must not count its lines again).
 */
export function anthropicVet(dropped: DroppedParams, counting: () => boolean = () => true): (request: ChatRequest) => string | undefined {
  return (request) => {
    const converted = toAnthropic(request.messages, request.params);
    if (converted.problems.length > 0) return `cannot be sent to an Anthropic arm: ${converted.problems[0]}`;
    if (counting()) for (const name of converted.dropped) dropped.set(name, (dropped.get(name) ?? 0) + 1);
    return undefined;
  };
}

/** "f.jsonl: parameters the Anthropic arm has no counterpart for were left out: n (3)", or undefined. */
export function droppedParamsWarning(file: string, dropped: DroppedParams): string | undefined {
  if (dropped.size === 0) return undefined;
  const counts = [...dropped].map(([name, count]) => `${name} (${count})`).join(', ');
  return `${file}: parameters the Anthropic arm has no counterpart for were left out: ${counts}`;
}
