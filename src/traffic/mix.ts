// The request source the engine draws from: synthetic and sampled traffic by their shares, with a share of
// requests streamed. next() never waits: a sampled request that is not buffered yet becomes a synthetic one.
import type { TrafficConfig } from '../plan/schema.js';
import type { ChatRequest } from '../upstream/types.js';
import { childRandom, type RandomSource } from '../core/random.js';
import { loadPrompts } from './prompts.js';
import { createSampledSource, type SampledSource } from './sampled.js';
import { sampledFileWarning } from './sampled-check.js';
import { anthropicVet, type DroppedParams } from './anthropic-vet.js';
import { createSyntheticSource, type SyntheticSource } from './synthetic.js';

export interface TrafficMixStats {
  synthetic: number;
  sampled: number;
  /** Sampled requests served synthetic because the replay buffer was momentarily empty. */
  fallbacks: number;
  /** Unusable lines in the sampled file (first pass). */
  skippedLines: number;
}

export interface TrafficMix {
  /** Loads prompts and buffers the first sampled requests; rejects with a TrafficError naming the file. */
  ready(): Promise<void>;
  next(): ChatRequest;
  stats(): TrafficMixStats;
  /** Unusable sampled lines ("f.jsonl: 12 line(s) skipped, the first at line 3: not JSON"), or replay failing. */
  warning(): string | undefined;
  close(): Promise<void>;
}

export interface TrafficMixOptions {
  /** Sampled requests held ready (default 512). */
  bufferSize?: number;
  /**
   * An arm speaks Anthropic's Messages API: sampled requests (recorded in OpenAI's shape) that cannot be
   * converted are skipped, and parameters with no Anthropic counterpart are counted for the warning.
   */
  anthropic?: boolean;
}

/** Probability that a request is a sampled one. Shares are normalised, and filled in when one is left out. */
export function sampledShareOf(config: TrafficConfig): number {
  const { synthetic, sampled } = config;
  if (!sampled) return 0;
  const sampledShare = sampled.share ?? (synthetic ? 1 - (synthetic.share ?? 0.5) : 1);
  const syntheticShare = synthetic?.share ?? 1 - sampledShare;
  const total = sampledShare + syntheticShare;
  return total > 0 ? sampledShare / total : 0;
}

export function createTrafficMix(config: TrafficConfig, random: RandomSource, options: TrafficMixOptions = {}): TrafficMix {
  const pSampled = sampledShareOf(config);
  // Children get their own seeded sources: the sampled reader draws asynchronously, and must not shift the
  // sequence the mix (and the splitter sharing `random`) sees.
  const syntheticRandom = childRandom(random);
  const sampledRandom = childRandom(random);
  const counts = { synthetic: 0, sampled: 0, fallbacks: 0 };
  let synthetic: SyntheticSource | undefined;
  let sampled: SampledSource | undefined;
  let closed = false;
  let starting: Promise<void> | undefined;
  // Parameter name -> sampled requests that carried it with no Anthropic counterpart (first pass).
  const droppedForAnthropic: DroppedParams = new Map();
  const vet = options.anthropic ? anthropicVet(droppedForAnthropic, () => sampled === undefined || sampled.passes() === 0) : undefined;

  const draw = (share: number) => share >= 1 || (share > 0 && random() < share);

  return {
    ready() {
      starting ??= (async () => {
        const prompts = await loadPrompts(config.synthetic?.prompts);
        const source = createSyntheticSource({ prompts, maxTokens: config.max_tokens, users: config.synthetic?.users, random: syntheticRandom });
        if (config.sampled && pSampled > 0 && !closed) {
          sampled = createSampledSource({
            file: config.sampled.file,
            sampleRate: config.sampled.sample_rate,
            maxTokens: config.max_tokens,
            random: sampledRandom,
            capacity: options.bufferSize,
            vet,
          });
          await sampled.ready();
        }
        synthetic = source;
      })();
      return starting;
    },
    next() {
      if (!synthetic) throw new Error('traffic mix: await ready() before next()');
      let request: ChatRequest | undefined;
      if (sampled && draw(pSampled)) {
        request = sampled.next();
        if (request) counts.sampled++;
        else counts.fallbacks++;
      }
      if (!request) {
        request = synthetic.next();
        counts.synthetic++;
      }
      return { ...request, stream: draw(config.stream) };
    },
    stats: () => ({ ...counts, skippedLines: sampled?.skipped() ?? 0 }),
    warning() {
      const file = config.sampled?.file ?? 'sampled traffic';
      const failure = sampled?.error();
      if (failure) return `${failure.message}; sending synthetic requests instead`;
      return sampledFileWarning(file, { skipped: sampled?.skipped() ?? 0, firstProblem: sampled?.firstProblem(), dropped: droppedForAnthropic });
    },
    async close() {
      closed = true;
      await sampled?.close();
    },
  };
}
