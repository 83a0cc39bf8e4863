// The first failure of each kind (arm, class, status) becomes a warning event: the message says what came
// back and which plan key fixes it, and a figure like "error rate 100%" alone would not.
import type { ArmName } from '../plan/plan.js';
import type { UpstreamResult } from '../upstream/types.js';

/** At most this many distinct kinds are reported, so a flapping upstream cannot flood the journal. */
const MAX_FAILURE_KINDS = 20;

export function firstFailureReporter(warn: (message: string) => void): (arm: ArmName, result: UpstreamResult) => void {
  const seen = new Set<string>();
  return (arm, result) => {
    if (result.ok || result.errorMessage === undefined || seen.size >= MAX_FAILURE_KINDS) return;
    const kind = `${arm}|${result.failure ?? ''}|${result.status ?? ''}`;
    if (seen.has(kind)) return;
    seen.add(kind);
    warn(`${firstFailureLead(arm, result.failure ?? 'failure')}${withoutArm(arm, result.errorMessage)}`);
  };
}

/** "first server_error on the green arm: ", before the upstream's whole message (status finds it by this). */
export function firstFailureLead(arm: ArmName, failure: string): string {
  return `first ${failure} on the ${arm} arm: `;
}

/**
 * A failure's message without the "green arm: " it starts with (upstream/describe.ts, the proxy's results): the
 * lead names the arm already. Status strips it too from a reason's quote, and from a warning an older version wrote.
 */
export function withoutArm(arm: ArmName, message: string): string {
  const prefix = `${arm} arm: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}
