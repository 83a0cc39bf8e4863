// A proxy back on blue by its lease says so on the renewal that reaches it (lapsedAt), and the journal says why. It
// blamed the rollout ("suspended or cut off") when the proxy had restarted and its saved route had outlived its lease
// (hostile28, a real restart mid-stage). The proxy's results feed names its process (epoch): a new one is a restart.
// A scripted admin API on 127.0.0.1, on the fake clock.
import { expect, it } from 'vitest';
import { scriptedServer } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { stageZeroLiveSource } from './engine-on-proxies.js';

const LAPSED_AT = Date.parse('2026-12-04T12:00:00Z');

/** The journal's warnings after a renewal answered with lapsedAt by a proxy whose feed is now `epoch` (it was e1). */
async function lapsedWarning(epoch: string): Promise<string> {
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'PUT')
      return res.end(
        JSON.stringify({
          route: { greenWeight: 0.5, mirror: 0, leaseExpiresAt: LAPSED_AT + 60_000 },
          resultsCursor: 0,
          resultsEpoch: epoch,
          lapsedAt: LAPSED_AT,
        }),
      );
    res.end(JSON.stringify({ epoch, version: 2, missed: 0, head: 0, next: 0, results: [] }));
  });
  const warnings: string[] = [];
  const { clock, source, proxy } = stageZeroLiveSource(admin.url, (message) => warnings.push(message));
  await proxy.setRoute({ greenWeight: 0.5, mirror: 0, ttlMs: 60_000, stage: 0 }, true);
  source.start();
  await clock.advance(250);
  await until(() => warnings.some((message) => message.includes('had gone back to blue')), 'the lapse journaled');
  source.stop();
  return warnings.find((message) => message.includes('had gone back to blue')) as string;
}

it('says the proxy restarted when its lease ran out across a restart, not that the rollout was suspended', async () => {
  const said = await lapsedWarning('e2');
  expect(said).toContain(`had gone back to blue by its lease at ${new Date(LAPSED_AT).toISOString()} (the proxy restarted`);
  expect(said).not.toContain('suspended');
});

it('says no renewal reached it when the proxy did not restart', async () => {
  const said = await lapsedWarning('e1');
  expect(said).toContain('no renewal reached it for a whole lease: this rollout was suspended or cut off from it');
});

it('says the proxy restarted when a read saw its new feed before the renewal did (the renewal then answers in that feed)', async () => {
  // The read sees e2 first; the renewal answers in e2 as well, which the epoch it answers with alone cannot tell apart
  // from no restart: the read's sighting of the restart must carry over to it.
  let renewed = false;
  const admin = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'PUT') {
      renewed = true;
      return res.end(
        JSON.stringify({
          route: { greenWeight: 0.5, mirror: 0, leaseExpiresAt: LAPSED_AT + 60_000 },
          resultsCursor: 0,
          resultsEpoch: 'e2',
          lapsedAt: LAPSED_AT,
        }),
      );
    }
    res.end(JSON.stringify({ epoch: 'e2', version: 2, missed: 0, head: 0, next: 0, results: [] }));
  });
  const warnings: string[] = [];
  const { clock, source, proxy } = stageZeroLiveSource(admin.url, (message) => warnings.push(message));
  source.start();
  await clock.advance(250);
  await until(() => warnings.some((message) => message.includes('restarted: its results are read again')), 'the restart seen by a read');
  // The read has taken the new feed (its second call, from the start of e2) before the renewal goes.
  await until(() => proxy.epoch === 'e2', 'the new feed read');
  await proxy.setRoute({ greenWeight: 0.5, mirror: 0, ttlMs: 60_000, stage: 0 }, true);
  expect(renewed).toBe(true);
  await clock.advance(250);
  await until(() => warnings.some((message) => message.includes('had gone back to blue')), 'the lapse journaled');
  source.stop();
  const said = warnings.find((message) => message.includes('had gone back to blue')) as string;
  expect(said).toContain('(the proxy restarted');
  expect(said).not.toContain('suspended');
});
