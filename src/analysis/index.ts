export { evaluate, type EvaluateInput, type HealthInput } from './evaluate.js';
export { createQualityChecker, type QualityChecker } from './quality.js';
export { describeBreach, formatFigure } from './messages.js';
export * from './types.js';
