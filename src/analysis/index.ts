export * from './types.js';
export { evaluate } from './evaluate.js';
export type { EvaluateInput } from './evaluate.js';
export { createQualityChecker, checkQuality, parsesAsJson } from './quality.js';
export type { QualityChecker, QualityOutcome } from './quality.js';
export { exceeds, proximity } from './rules.js';
export type { HealthInput } from './rules.js';
