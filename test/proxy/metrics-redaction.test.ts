// An upstream's own error message may quote the proxy's key: the figures and the results feed (its listeners) get it
// redacted, and the caller's result is left as it was (the answer path, a fallback, may still read it).
import { describe, expect, it } from 'vitest';
import { createQualityChecker } from '../../src/analysis/quality.js';
import { createRedactor } from '../../src/core/redact.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

const KEY = 'sk-proj-0123456789abcdefghijklmnop';

describe('ProxyMetrics.finished', () => {
  it('records a redacted copy of an error message quoting the key, the caller keeping its result as it was', () => {
    const metrics = new ProxyMetrics({
      prices: { blue: undefined, green: undefined },
      quality: createQualityChecker(undefined),
      now: () => 1_000_000,
      redactor: createRedactor([KEY]),
    });
    const heard: UpstreamResult[] = [];
    metrics.onResult((result) => heard.push(result));
    const failed: UpstreamResult = {
      arm: 'green',
      model: 'm',
      stream: false,
      attempts: 1,
      ok: false,
      content: '',
      latencyMs: 12,
      failure: 'auth',
      errorMessage: `Incorrect API key provided: ${KEY}`,
    };
    const ok: UpstreamResult = { arm: 'blue', model: 'm', stream: false, attempts: 1, ok: true, content: 'fine', latencyMs: 10 };
    metrics.finished(failed, 'routed', metrics.started('green', false));
    metrics.finished(ok, 'routed', metrics.started('blue', false));
    expect(failed.errorMessage).toBe(`Incorrect API key provided: ${KEY}`);
    expect(heard.map((result) => result.errorMessage)).toEqual(['Incorrect API key provided: [redacted]', undefined]);
    expect(heard[0]).toEqual({ ...failed, errorMessage: 'Incorrect API key provided: [redacted]' });
    // A result with nothing to redact is passed on as it is.
    expect(heard[1]).toBe(ok);
    const figures = JSON.stringify(metrics.snapshot());
    expect(figures).toContain('Incorrect API key provided: [redacted]');
    expect(figures).not.toContain(KEY.slice(0, 12));
  });
});
