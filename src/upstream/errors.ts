// Errors this folder throws. send() never throws for upstream problems; these come from listModels and preflight.
import { CliError, EXIT } from '../core/exit.js';
import type { FailureClass } from './types.js';

/** listModels could not get an HTTP answer (or got an unusable one). The message holds no secret. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly failure: FailureClass,
    /** Short cause: an error code such as ECONNREFUSED, or which timeout fired. */
    readonly reason: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** The upstream cannot serve the rollout: exit 3 before any traffic is sent. */
export class PreflightError extends CliError {
  constructor(message: string) {
    super(message, EXIT.preflight);
    this.name = 'PreflightError';
  }
}
