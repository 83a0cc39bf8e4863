// A recovery's guard (src/state/recovery-guard.ts) answers whoever connects with its pid. A connection closed before
// that answer is written (a second rollback interrupted as it asks, or any local process: an abstract socket has no
// permissions) made the write fail with EPIPE, an 'error' nothing listened for: the `bluegreen rollback` holding the
// guard crashed with a stack trace in the middle of putting traffic back on blue (hostile22).
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { claimRecoveryGuard, recoveryGuardName } from '../../src/state/recovery-guard.js';
import { tempDir } from '../helpers/plans.js';

it.runIf(process.platform === 'linux')('survives a connection closed before it is answered, and still answers the next', async () => {
  const dir = tempDir();
  const guard = await claimRecoveryGuard(dir);
  if ('busy' in guard) throw new Error('a fresh folder has no recovery under way');
  try {
    // Run synchronously: this process's event loop is held, so the guard accepts the connection only once its
    // client has closed it, and its answer's write always meets a closed peer.
    const name = recoveryGuardName(dir)?.slice(1);
    const client = spawnSync(process.execPath, [
      '-e',
      "require('node:net').connect({ path: '\\0' + process.argv[1] }).on('connect', function () { this.destroy(); })",
      name ?? '',
    ]);
    expect(client.status, client.stderr.toString()).toBe(0);
    // Accepted (and its write failed) before this one: the guard is still held, and it answers.
    expect(await claimRecoveryGuard(dir)).toEqual({ busy: true, pid: process.pid, bluegreen: false });
  } finally {
    guard.release();
  }
});
