export { TrafficError } from './errors.js';
export { DEFAULT_PROMPTS, loadPrompts, parsePrompts } from './prompts.js';
export { createSyntheticSource, DEFAULT_SYSTEM_PROMPTS, type SyntheticOptions, type SyntheticSource } from './synthetic.js';
export { parseSampledLine, stickyKeyOf, type ParsedLine } from './sampled-line.js';
export { createSampledSource, type SampledOptions, type SampledSource } from './sampled.js';
export { checkSampledFile, sampledFileWarning, skippedLinesWarning, type SampledFileCheck } from './sampled-check.js';
export { createTrafficMix, sampledShareOf, type TrafficMix, type TrafficMixOptions, type TrafficMixStats } from './mix.js';
export { createArrivalScheduler, type ArrivalScheduler, type ArrivalSchedulerOptions, type ArrivalStats } from './scheduler.js';
