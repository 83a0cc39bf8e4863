export * from './types.js';
export { MetricsRecorder, DEFAULT_WINDOW_SECONDS } from './recorder.js';
export type { MetricsRecorderOptions, QualityVerdict, RecorderStage, SendTag } from './recorder.js';
export { LatencyHistogram, createHistogram, toMicros } from './histogram.js';
export { HIGHEST_MICROS } from './range.js';
export { RollingWindow } from './window.js';
export { ArmRecorder, costUsd } from './arm.js';
export {
  BucketCounter,
  bucketOf,
  bucketLowerMs,
  bucketUpperMs,
  bucketTotal,
  mergeBuckets,
  withLatencies,
  BUCKET_GROWTH,
  LOWEST_MS,
  HIGHEST_MS,
} from './buckets.js';
export type { LatencyBuckets } from './buckets.js';
