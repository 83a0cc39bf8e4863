// A named pipe under a handover file's name in the proxy's state folder (proxy-handover/UUID.jsonl): found by
// hostile29, the proxy opened it to read the handed-over results at the rollout's next read of the results feed, and
// open() waited for a writer for good: the whole proxy froze (every request, /healthz and the admin API), deaf to
// SIGTERM. Now such a file is left alone, said once. Run in a child process (the built modules, as the proxy runs
// them), so a hang is cut by the timeout instead of blocking the test worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { HANDOVER_DIR } from '../../src/proxy/handover.js';
import { tempDir } from '../state/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

const dist = (file: string): string => JSON.stringify(pathToFileURL(path.resolve(import.meta.dirname, '../../dist', file)).href);
const uuid = (c: string): string => `${c.repeat(8)}-${c.repeat(4)}-4${c.repeat(3)}-8${c.repeat(3)}-${c.repeat(12)}`;
/** A pid no process has: the writer has exited. */
const DEAD_PID = 2 ** 22 + 12345;

it("named pipes among a proxy's handover files are left alone, and a real handover beside them is still served", () => {
  const folder = tempDir();
  cleanups.push(() => folder.cleanup());
  const handovers = path.join(folder.dir, HANDOVER_DIR);
  mkdirSync(handovers, { recursive: true });
  execFileSync('mkfifo', [path.join(handovers, `${uuid('a')}.jsonl`)]);
  execFileSync('mkfifo', [path.join(handovers, `${uuid('b')}.json`)]);
  const epoch = uuid('c');
  const result = { arm: 'green', model: 'm', ok: true, content: 'x', latencyMs: 1, attempts: 1, stream: false };
  const entry = { stage: 1, kind: 'routed', result, quality: { ok: true }, origin: { epoch, seq: 1, controller: 'run-1' } };
  writeFileSync(path.join(handovers, `${epoch}.jsonl`), `${JSON.stringify({ handover: 1, epoch, pid: DEAD_PID })}\n${JSON.stringify(entry)}\n`);
  const script = `
    const { HandoverReader } = await import(${dist('proxy/handover.js')});
    const { ResultsFeed } = await import(${dist('proxy/results-feed.js')});
    const feed = new ResultsFeed(100, { controller: () => 'run-1' });
    const logs = [];
    const reader = new HandoverReader(${JSON.stringify(folder.dir)}, feed, (message) => logs.push(message));
    reader.poll();
    reader.poll();
    const served = feed.read(0, 100, feed.epoch).results.map((e) => e.origin?.epoch);
    console.log(JSON.stringify({ served, logs }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(run.signal, 'reading the handover folder hung').toBeNull();
  const { served, logs } = JSON.parse(run.stdout) as { served: string[]; logs: string[] };
  expect(served).toEqual([epoch]);
  expect(logs).toHaveLength(2);
  expect(logs.join('\n')).toContain(`${uuid('a')}.jsonl is not a handover of a stopped proxy's results this proxy can read: left alone`);
  expect(logs.join('\n')).toContain(`${uuid('b')}.json is not a handover`);
});
