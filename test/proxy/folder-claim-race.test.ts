// Two proxies finding the same dead proxy.lock claim at one moment: the second removed whatever was in place by
// then, perhaps the first's new claim, linked its own, and both started on one folder. The stale claim is moved
// aside now and compared there: another proxy's claim found in its place is put back, and judged. In-process and
// deterministic: the second claimer runs whole between the first's judgement and its takeover.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/exit.js';
import { claimFolder, PROXY_LOCK_FILE } from '../../src/proxy/folder-claim.js';
import { tempDir } from '../helpers/plans.js';

// A live process other than this one (the test's parent), as two proxies' claims name two processes.
const OTHER = { pid: process.ppid };
// A claim whose holder is dead (no process has pid 2^31-2).
const DEAD = `${JSON.stringify({ pid: 2 ** 31 - 2, claim: 'dead-claim' })}\n`;

function lockHolder(stateDir: string): unknown {
  return JSON.parse(readFileSync(path.join(stateDir, PROXY_LOCK_FILE), 'utf8'));
}

describe('two proxies taking over the same stale claim at once', () => {
  it('only one gets the folder: the later takeover finds the other claim in place, puts it back and refuses', () => {
    const stateDir = tempDir('bluegreen-claim-');
    writeFileSync(path.join(stateDir, PROXY_LOCK_FILE), DEAD);
    let first: string | undefined;
    const second = (): string =>
      claimFolder(stateDir, {
        identity: OTHER,
        // After this claimer judged the dead claim stale: the other one claims the folder whole.
        judged: () => {
          first ??= claimFolder(stateDir, { identity: OTHER });
        },
      });
    expect(second).toThrow(UsageError);
    expect(second).toThrow(/another bluegreen proxy \(pid \d+\) is starting or runs on the state folder/);
    expect(first).toBeDefined();
    expect(lockHolder(stateDir)).toMatchObject({ claim: first });
    // Nothing left beside it: the claims written and moved aside are gone.
    expect(readdirSync(stateDir)).toEqual([PROXY_LOCK_FILE]);
  });

  it('a claim taken over alone is still taken (the dead one moved aside, this one linked)', () => {
    const stateDir = tempDir('bluegreen-claim-');
    writeFileSync(path.join(stateDir, PROXY_LOCK_FILE), DEAD);
    const claim = claimFolder(stateDir, { identity: OTHER });
    expect(lockHolder(stateDir)).toMatchObject({ claim });
    expect(readdirSync(stateDir)).toEqual([PROXY_LOCK_FILE]);
  });
});

describe('a claim back in place after every takeover', () => {
  it('gives up after a few rounds, saying which folder, why and what to do (exit 2), not a bare EEXIST', () => {
    const stateDir = tempDir('bluegreen-claim-');
    const lock = path.join(stateDir, PROXY_LOCK_FILE);
    writeFileSync(lock, DEAD);
    let rounds = 0;
    // Another dead claim in place each time this claimer judged the one before: each takeover puts it back.
    const claiming = (): string =>
      claimFolder(stateDir, { identity: OTHER, judged: () => writeFileSync(lock, `${JSON.stringify({ pid: 2 ** 31 - 2, claim: `dead-${++rounds}` })}\n`) });
    const refused = (() => {
      try {
        claiming();
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).exitCode).toBe(2);
    expect((refused as UsageError).message).toBe(
      `cannot claim the state folder ${stateDir}: a claim was back in ${lock} each of the 4 times this proxy took one over ` +
        '(other proxies starting on the folder at the same moment, or something else writing that file). Run one proxy per state folder (--state-dir), then start this one again',
    );
    expect(rounds).toBe(4);
    // The last claim found stays; this claimer's own files are gone.
    expect(lockHolder(stateDir)).toMatchObject({ claim: 'dead-4' });
    expect(readdirSync(stateDir)).toEqual([PROXY_LOCK_FILE]);
  });
});
