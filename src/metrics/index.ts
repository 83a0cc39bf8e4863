export { MetricsRecorder, type RecorderOptions } from './recorder.js';
export { LatencyHistogram } from './histogram.js';
export { RollingWindow } from './window.js';
export * from './types.js';
