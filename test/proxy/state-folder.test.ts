// A state folder the proxy cannot write (a full disk, a path through a file, no permission) is the operator's to
// fix: exit 2 naming the file and why, as a rollout does for its own state folder, never "internal error".
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { openAiCompletion, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

describe('bluegreen proxy on a state folder it cannot write', () => {
  it('exits 2 naming the file and why, and does not serve', async () => {
    const upstream = await scriptedServer((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.method === 'GET') return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model' }, { id: 'green-model' }] }));
      res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, 'an answer'));
    });
    const dir = tempDir();
    const file = writePlan(scriptedPlan(upstream.url, { proxy: '{}' }), dir);
    // The folder asked for lies under a file: it can be neither created nor written.
    writeFileSync(path.join(dir, 'not-a-folder'), 'x');
    const stateDir = path.join(dir, 'not-a-folder', 'state');
    const run = await runCli(['proxy', file, '--listen', '127.0.0.1:0', '--state-dir', stateDir], { cwd: dir, env: { UPSTREAM_KEY } });
    expect(run.stderr).not.toContain('internal error');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write ${path.join(stateDir, 'proxy.json')}: part of the path`);
    expect(run.stderr).toContain('--state-dir');
    expect(run.stderr).not.toContain('listening on');
  });
});
