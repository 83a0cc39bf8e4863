// The running exec hook's process group, written to the state folder while it runs: a hook outlives a
// kill -9 of bluegreen (it leads its own group), and must not finish after `bluegreen rollback` and move
// traffic back to green. Recovery stops the group first.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const HOOK_FILE = 'hook.json';
const GRACE_MS = 2000;

interface HookRecord {
  pgid: number;
  plan: string;
  event: string;
}

export function hookRecorder(dir: string, plan: string, event: string): { started(pid: number): void; finished(): void } {
  const file = path.join(dir, HOOK_FILE);
  return {
    // A plain write, no fsync: it must land within the moment after spawn, and it only has to survive a
    // killed process (the page cache does), not a power cut. A torn record is ignored on reading.
    started: (pgid) => writeFileSync(file, `${JSON.stringify({ pgid, plan, event } satisfies HookRecord)}\n`),
    finished: () => rmSync(file, { force: true }),
  };
}

/** Whether the group's leader is still our hook: its environment names the plan (Linux); elsewhere trust the record. */
function isOurHook(record: HookRecord): boolean {
  try {
    process.kill(-record.pgid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${record.pgid}/environ`, 'utf8').split('\0').includes(`BLUEGREEN_PLAN=${record.plan}`);
  } catch {
    // The leader (the hook's shell) may be gone while its children run on; /proc may not exist.
    return true;
  }
}

/** Stops a hook a dead rollout left running; says what it did, or undefined when there was nothing to stop. */
export async function stopOrphanHook(dir: string, plan: string): Promise<string | undefined> {
  const file = path.join(dir, HOOK_FILE);
  let record: HookRecord;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as HookRecord;
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  if (!Number.isSafeInteger(record.pgid) || record.pgid <= 1 || record.plan !== plan || !isOurHook(record)) return undefined;
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-record.pgid, name);
      return true;
    } catch {
      return false;
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  // Not our children: no event says when they are gone, so look every few ms until the grace is over.
  while (signal(0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  signal('SIGKILL');
  return `stopped the on_${record.event} hook (process group ${record.pgid}) the dead rollout left running`;
}
