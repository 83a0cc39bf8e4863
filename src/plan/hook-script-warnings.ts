// An exec hook whose command starts with a script path (`./set-weight.sh 0.5`) that is not there, or not executable,
// fails the moment it runs: on_stage's failure rolls back the first stage, and a missing on_rollback leaves traffic
// where it is. /bin/sh says only "not found" (exit 127) or "Permission denied" (126) then; validate says it before.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Plan } from './plan.js';
import type { PlanWarning } from './warnings.js';

const HOOK_KEYS = ['on_stage', 'on_rollback', 'on_promote', 'on_abort'] as const;
/** A first word that is a plain path: no quoting, expansion or other shell syntax that only the shell can read. */
const SCRIPT_PATH = /^(\.{1,2}\/|\/)[\w./@+-]*$/;

export function hookScriptWarnings(plan: Plan): PlanWarning[] {
  return HOOK_KEYS.flatMap((key) => {
    const command = plan.hooks?.[key]?.exec;
    const first = command?.trim().split(/\s+/)[0];
    if (first === undefined || !SCRIPT_PATH.test(first)) return [];
    // exec hooks run in the plan's folder (src/hooks/exec.ts), so the script is found from there.
    const script = path.resolve(plan.source.dir, first);
    const problem = scriptProblem(script, first);
    return problem ? [{ keyPath: `hooks.${key}.exec`, message: `${first} ${problem}` }] : [];
  });
}

function scriptProblem(script: string, first: string): string | undefined {
  try {
    if (!statSync(script).isFile()) return `is not a file: ${script}`;
  } catch {
    return `is not there: ${script} (exec hooks run in the plan's folder); the hook would fail as it runs (exit 127)`;
  }
  try {
    accessSync(script, constants.X_OK);
    return undefined;
  } catch {
    return `is not executable: the hook would fail as it runs (exit 126); chmod +x ${first}, or write sh ${first}`;
  }
}
