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

/** One mix's state: its config, its seeded sources and what it has served. */
interface Mix {
  readonly config: TrafficConfig;
  readonly random: RandomSource;
  readonly options: TrafficMixOptions;
  readonly pSampled: number;
  readonly syntheticRandom: RandomSource;
  readonly sampledRandom: RandomSource;
  readonly counts: { synthetic: number; sampled: number; fallbacks: number };
  /** Parameter name -> sampled requests that carried it with no Anthropic counterpart (first pass). */
  readonly droppedForAnthropic: DroppedParams;
  synthetic: SyntheticSource | undefined;
  sampled: SampledSource | undefined;
  closed: boolean;
}

export function createTrafficMix(config: TrafficConfig, random: RandomSource, options: TrafficMixOptions = {}): TrafficMix {
  const mix: Mix = {
    config,
    random,
    options,
    pSampled: sampledShareOf(config),
    // Children get their own seeded sources: the sampled reader draws asynchronously, and must not shift the
    // sequence the mix (and the splitter sharing `random`) sees.
    syntheticRandom: childRandom(random),
    sampledRandom: childRandom(random),
    counts: { synthetic: 0, sampled: 0, fallbacks: 0 },
    droppedForAnthropic: new Map(),
    synthetic: undefined,
    sampled: undefined,
    closed: false,
  };
  let starting: Promise<void> | undefined;
  return {
    ready: () => (starting ??= startSources(mix)),
    next: () => nextRequest(mix),
    stats: () => ({ ...mix.counts, skippedLines: mix.sampled?.skipped() ?? 0 }),
    warning: () => mixWarning(mix),
    async close() {
      mix.closed = true;
      await mix.sampled?.close();
    },
  };
}

/** Loads the prompts and, when sampled traffic has a share, opens its file and waits for its first requests. */
async function startSources(mix: Mix): Promise<void> {
  const { config } = mix;
  const prompts = await loadPrompts(config.synthetic?.prompts);
  const synthetic = createSyntheticSource({ prompts, maxTokens: config.max_tokens, users: config.synthetic?.users, random: mix.syntheticRandom });
  if (config.sampled && mix.pSampled > 0 && !mix.closed) {
    const vet = mix.options.anthropic ? anthropicVet(mix.droppedForAnthropic, () => mix.sampled === undefined || mix.sampled.passes() === 0) : undefined;
    mix.sampled = createSampledSource({
      file: config.sampled.file,
      sampleRate: config.sampled.sample_rate,
      maxTokens: config.max_tokens,
      random: mix.sampledRandom,
      capacity: mix.options.bufferSize,
      vet,
    });
    await mix.sampled.ready();
  }
  mix.synthetic = synthetic;
}

function nextRequest(mix: Mix): ChatRequest {
  if (!mix.synthetic) throw new Error('traffic mix: await ready() before next()');
  let request: ChatRequest | undefined;
  if (mix.sampled && draw(mix.random, mix.pSampled)) {
    request = mix.sampled.next();
    if (request) mix.counts.sampled++;
    else mix.counts.fallbacks++;
  }
  if (!request) {
    request = mix.synthetic.next();
    mix.counts.synthetic++;
  }
  return { ...request, stream: draw(mix.random, mix.config.stream) };
}

const draw = (random: RandomSource, share: number) => share >= 1 || (share > 0 && random() < share);

function mixWarning(mix: Mix): string | undefined {
  const file = mix.config.sampled?.file ?? 'sampled traffic';
  const failure = mix.sampled?.error();
  if (failure) return `${failure.message}; sending synthetic requests instead`;
  return sampledFileWarning(file, { skipped: mix.sampled?.skipped() ?? 0, firstProblem: mix.sampled?.firstProblem(), dropped: mix.droppedForAnthropic });
}
