// A proxy whose state folder is moved or deleted while it runs (`mv .bluegreen .bluegreen.old` to "start afresh").
// Found by hostile36b: its next route save made the folder again by its path, holding the route but neither the
// proxy's claim (proxy.lock) nor its address (proxy.json), so a second `bluegreen proxy` claimed the same folder and
// the two wrote one route file; a rollout of the folder found only the second, and the first, which the application
// still used, answered every route 200 as saved. Now the save fails like one on a full disk (500, `unsaved`: the
// rollout rolls back rather than promote what no restart keeps) and the folder is not made again. Real proxy on
// 127.0.0.1.
import { existsSync, renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, liveFixture } from '../live/helpers.js';

const fixture = liveFixture();

describe('a proxy whose state folder is moved away while it runs', () => {
  it('answers the next route 500 (not saved, ENOENT) and does not make the folder again', async () => {
    const stateDir = tempDir();
    const [proxy] = await fixture.startProxies(1, { stateDirs: [stateDir] });
    renameSync(stateDir, `${stateDir}.old`);

    const answer = await fetch(`${proxy!.proxy.adminUrl as string}/admin/route`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted by hand' }),
    });
    const body = (await answer.json()) as { error?: string; inForce?: boolean; unsaved?: string; restartServes?: string; fix?: string };
    expect(answer.status).toBe(500);
    expect(body.inForce).toBe(true);
    expect(body.unsaved).toMatch(/^could not save the route to .*proxy-route\.json: ENOENT \(its state folder was moved or deleted since the proxy started\)$/);
    // What to do is to restart the proxy on its folder, not to free it (disk space, permissions: it said so before).
    const fix = `its state folder ${stateDir} is gone (moved or deleted since the proxy started) and is not made again: restart the proxy on its state folder (--state-dir where the folder now is, or that path, which it makes afresh)`;
    expect(body.fix).toBe(fix);
    expect(body.error?.endsWith(`: ${fix}`)).toBe(true);
    expect(body.error).not.toContain('disk space');
    // No folder without the proxy's claim for a second proxy to take.
    expect(existsSync(stateDir)).toBe(false);
  });
});
