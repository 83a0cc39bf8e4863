// A Prometheus histogram per arm, kept as plain bucket counts on the request path and formatted at scrape time.
import type { ArmName } from '../plan/plan.js';
import { ARMS } from '../plan/plan.js';

interface BucketCounts {
  /** Per bucket, not cumulative (made cumulative when read). */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram with an `arm` label, registered on a prom-client registry as a metric object of its own (prom-client
 * calls get() at scrape time): observing is a bucket search and three additions, with no label lookup.
 */
export class ArmHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly arms: Record<ArmName, BucketCounts>;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    const empty = (): BucketCounts => ({ counts: new Float64Array(bounds.length), sum: 0, count: 0 });
    this.arms = { blue: empty(), green: empty() };
  }

  observe(arm: ArmName, value: number): void {
    const data = this.arms[arm];
    data.sum += value;
    data.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (data.counts[i] as number)++;
        return;
      }
    }
  }

  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  } {
    const values = [];
    for (const arm of ARMS) {
      const data = this.arms[arm];
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += data.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i] as number, arm }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', arm }, value: data.count });
      values.push({ metricName: `${this.name}_sum`, labels: { arm }, value: data.sum });
      values.push({ metricName: `${this.name}_count`, labels: { arm }, value: data.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
