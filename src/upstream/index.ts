// The upstream layer's public surface.
export * from './types.js';
export { createUpstreamClient, dialectFor, endpoint } from './client.js';
export type { UpstreamClient, UpstreamClientOptions } from './client.js';
export { readApiKey } from './api-key.js';
export { preflight, DEFAULT_PREFLIGHT_TIMEOUT_MS } from './preflight.js';
export type { PreflightOptions, PreflightReport, PreflightTarget } from './preflight.js';
export { PreflightError, UpstreamError } from './errors.js';
export { isRetryable } from './retry.js';
export { classifyNetworkError, classifyStatus, parseErrorBody, parseRateLimit } from './classify.js';
export type { ErrorInfo, HeaderMap } from './classify.js';
export { displayUrl, redact } from './describe.js';
export { openAiDialect } from './openai.js';
export { anthropicDialect, ANTHROPIC_VERSION } from './anthropic.js';
export type { Dialect, DialectReply, ParseOutcome, StreamReader, StreamStep } from './dialect.js';
