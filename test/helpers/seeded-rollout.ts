// One seeded rollout in virtual time, as the engine runs it: Poisson arrivals at a fixed rate, stages of fixed
// length, a judgement every analysis interval and at each stage's end. What arrives and how it is judged is the
// caller's (the recorders differ from test to test); the arrivals share the caller's random stream.
import { createRandom } from '../../src/core/random.js';

export interface RolloutShape {
  /** Green weight per stage. */
  weights: readonly number[];
  stageMs: number;
  /** Requests per second. */
  rate: number;
  /** Between judgements (the plan's analysis.interval). */
  intervalMs: number;
}

/** One stage's side of the rollout: called once per arrival and once per judgement. */
export interface StageDriver {
  /** A request arriving at `atMs`, to be routed and recorded (drawing from `rng` after the arrival's own draw). */
  arrive(atMs: number, rng: () => number): void;
  /** The rule that rolls back now, if any. */
  judge(): string | undefined;
}

export interface Rollback {
  /** 1-based. */
  stage: number;
  rule: string;
}

/** Runs the stages in turn (`stage(i)` sets up stage i, 0-based); the first rollback, or undefined when promoted. */
export function seededRollout(seed: number, shape: RolloutShape, stage: (index: number) => StageDriver): Rollback | undefined {
  const rng = createRandom(seed);
  let t = 0;
  for (let s = 0; s < shape.weights.length; s++) {
    const driver = stage(s);
    const end = (s + 1) * shape.stageMs;
    let tick = t + shape.intervalMs;
    for (;;) {
      // Drawn afresh after every judgement as after every arrival: the stream is memoryless.
      const arrival = t - (Math.log(1 - rng()) / shape.rate) * 1000;
      const at = Math.min(arrival, tick, end);
      if (at !== arrival) {
        const rule = driver.judge();
        if (rule !== undefined) return { stage: s + 1, rule };
        if (at === end) break;
        t = at;
        tick += shape.intervalMs;
        continue;
      }
      t = arrival;
      driver.arrive(t, rng);
    }
    t = end;
  }
  return undefined;
}
