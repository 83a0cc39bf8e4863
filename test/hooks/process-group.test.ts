// groupGone: a stopped hook's group is reported gone only once its members have left, not when SIGKILL is sent.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive, groupGone, signalPgid } from '../../src/hooks/process-group.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** A detached group whose shell ignores SIGTERM (so only the kill ends it), started once it said it is ready. */
async function stubbornGroup(): Promise<number> {
  const child = spawn('sh', ['-c', 'trap "" TERM; echo ready; exec sleep 600'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const pgid = child.pid as number;
  cleanups.push(() => void signalPgid(pgid, 'SIGKILL'));
  await once(child.stdout, 'data');
  return pgid;
}

describe('groupGone', () => {
  it('waits after the kill until the group has left: a kill that takes effect late still ends with nothing running', async () => {
    const pgid = await stubbornGroup();
    signalPgid(pgid, 'SIGTERM');
    // The kernel ends a SIGKILLed process asynchronously; a kill that lands 150 ms after it was asked stands for that.
    const slowKill = () => void setTimeout(() => signalPgid(pgid, 'SIGKILL'), 150);
    await groupGone(pgid, 50, slowKill);
    expect(groupAlive(pgid)).toBe(false);
  });

  it('resolves at once when the group is already gone, without killing', async () => {
    const pgid = await stubbornGroup();
    signalPgid(pgid, 'SIGKILL');
    let killed = 0;
    await groupGone(pgid, 10_000, () => killed++);
    expect(groupAlive(pgid)).toBe(false);
    expect(killed).toBe(0);
  });
});
