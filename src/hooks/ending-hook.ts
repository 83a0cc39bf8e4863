// Which hook puts traffic where a rollout's ending leaves it. A plan that moves traffic with on_stage alone (the
// documented `on_stage: set-weight.sh`, perhaps with on_rollback but no on_abort) must still move it at the end:
// otherwise an abort would say "traffic is back on blue" while the gateway kept green's share. An ending without
// a hook of its own runs the nearest one that sets a weight, told the ending's event and weight.
import type { HookConfig, HooksConfig } from '../plan/schema.js';
import type { HookEventName } from './types.js';

export type EndingEventName = Exclude<HookEventName, 'stage'>;

/** A plan's hook, by its key in `hooks`. */
export type HookKey = Exclude<keyof HooksConfig, 'pass_env'>;

export interface ChosenHook {
  hook: HookConfig;
  /** Which of the plan's hooks it is ("on_stage" for a stand-in): what a record of its run names. */
  key: HookKey;
  /** "on_rollback hook", or "on_stage hook (for on_abort, which the plan has not)" for a stand-in. */
  label: string;
  /** The same without "hook": "on_rollback", "on_stage (for on_abort, which the plan has not)". */
  name: string;
}

/** abort: on_abort, else on_rollback (both put green at 0); every ending: else on_stage, which sets any weight. */
const STAND_INS: Record<EndingEventName, readonly HookKey[]> = {
  rollback: ['on_rollback', 'on_stage'],
  abort: ['on_abort', 'on_rollback', 'on_stage'],
  promote: ['on_promote', 'on_stage'],
};

export function endingHook(hooks: HooksConfig | undefined, event: EndingEventName): ChosenHook | undefined {
  const own = `on_${event}`;
  for (const name of STAND_INS[event]) {
    const hook = hooks?.[name];
    if (hook === undefined) continue;
    const standIn = name === own ? '' : ` (for ${own}, which the plan has not)`;
    return { hook, key: name, label: `${name} hook${standIn}`, name: `${name}${standIn}` };
  }
  return undefined;
}

/** "on_abort, on_rollback or on_stage": the hooks endingHook looks for, in its order, as a message names them. */
export function endingHookNames(event: EndingEventName): string {
  const names = STAND_INS[event];
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(', ')} or ${names.at(-1) as string}`;
}
