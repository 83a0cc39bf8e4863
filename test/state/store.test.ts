import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/core/exit.js';
import { stateDir, stateDirFlag, StateStore, writeControl } from '../../src/state/index.js';
import { catchError, event, snapshot, tempDir } from './helpers.js';
import { killAfterTest } from '../helpers/processes.js';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.cleanup());

describe('stateDir', () => {
  it('prefers the option, then BLUEGREEN_STATE_DIR, then .bluegreen in cwd', () => {
    expect(stateDir('run', { BLUEGREEN_STATE_DIR: '/env' }, '/work')).toBe('/work/run');
    expect(stateDir(undefined, { BLUEGREEN_STATE_DIR: '/env/state' }, '/work')).toBe('/env/state');
    expect(stateDir(undefined, { BLUEGREEN_STATE_DIR: '' }, '/work')).toBe('/work/.bluegreen');
    expect(stateDir(undefined, {}, '/work')).toBe('/work/.bluegreen');
  });

  it('is named again for the commands a message suggests, but for the default folder', () => {
    expect(stateDirFlag('/work/.bluegreen', '/work')).toBe('');
    expect(stateDirFlag('/work/.bluegreen-rollback', '/work')).toBe(' --state-dir .bluegreen-rollback');
    expect(stateDirFlag('/var/lib/bg', '/work')).toBe(' --state-dir /var/lib/bg');
    expect(stateDirFlag("/work/it's mine", '/work')).toBe(` --state-dir 'it'\\''s mine'`);
  });
});

describe('state.json', () => {
  it('reads back what was written, and undefined before anything was, leaving no temp file behind', async () => {
    const store = new StateStore(path.join(temp.dir, 'nested', 'state'));
    expect(store.readState()).toBeUndefined();
    await store.writeState(snapshot({ stageIndex: 3 }));
    expect(store.readState()?.stageIndex).toBe(3);
    await store.writeState(snapshot({ stageIndex: 4 }));
    expect(store.readState()?.stageIndex).toBe(4);
    expect(readdirSync(store.dir).sort()).toEqual(['state.json']);
  });

  it('rejects a write that cannot land, and removes its temp file', async () => {
    const store = new StateStore(temp.dir);
    // A folder where state.json should be: the rename fails after the temp file was written.
    mkdirSync(store.statePath);
    writeFileSync(path.join(store.statePath, 'x'), '');
    await expect(store.writeState(snapshot())).rejects.toThrow(/state\.json/);
    expect(readdirSync(temp.dir)).toEqual(['state.json']);
  });

  it('is never seen half-written by a reader in another process', async () => {
    const store = new StateStore(temp.dir);
    // Large enough that a non-atomic write would be caught mid-way.
    const big = (i: number) => snapshot({ stageIndex: i, greenErrorTrend: Array.from({ length: 20_000 }, (_, k) => k / 7) });
    await store.writeState(big(0));
    const stopFile = path.join(temp.dir, 'stop');
    // Killed if the test fails before it writes the stop file: the reader reads in a loop until then.
    const reader = killAfterTest(
      spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs');
         let reads = 0, torn = 0;
         process.stdout.write('ready\\n');
         while (!fs.existsSync(${JSON.stringify(stopFile)})) {
           try { JSON.parse(fs.readFileSync(${JSON.stringify(store.statePath)}, 'utf8')); reads++; } catch { torn++; }
         }
         process.stdout.write(JSON.stringify({ reads, torn }));`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    let output = '';
    reader.stdout.setEncoding('utf8');
    await new Promise<void>((resolve) => {
      reader.stdout.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('ready\n')) resolve();
      });
    });
    for (let i = 1; i <= 200; i++) await store.writeState(big(i));
    writeFileSync(stopFile, '');
    await new Promise((resolve) => reader.on('close', resolve));
    const result = JSON.parse(output.slice(output.indexOf('\n') + 1)) as { reads: number; torn: number };
    expect(result.torn).toBe(0);
    expect(result.reads).toBeGreaterThan(0);
    expect(store.readState()?.stageIndex).toBe(200);
  });

  it('names the file when it is corrupt', () => {
    const store = new StateStore(temp.dir);
    writeFileSync(store.statePath, '{"version": 1, "pha');
    const error = catchError(() => store.readState());
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as Error).message).toContain(`${store.statePath} is corrupt`);
  });

  it('refuses a JSON file that is not a state file', () => {
    const store = new StateStore(temp.dir);
    writeFileSync(store.statePath, JSON.stringify({ version: 2, phase: 'x' }));
    expect(() => store.readState()).toThrow(`${store.statePath} is not a bluegreen state file: it has version 2`);
  });
});

describe('events.jsonl', () => {
  it('appends one JSON line per event and reads them back, or the last few', () => {
    const store = new StateStore(temp.dir);
    expect(store.readEvents()).toEqual([]);
    for (let i = 1; i <= 5; i++) store.appendEvent(event(i));
    expect(readFileSync(store.eventsPath, 'utf8').split('\n')).toHaveLength(6);
    expect(store.readEvents().map((e) => e.at)).toEqual([1, 2, 3, 4, 5]);
    expect(store.readEvents({ last: 2 }).map((e) => e.at)).toEqual([4, 5]);
    expect(store.readEvents({ last: 0 })).toEqual([]);
  });

  it('tolerates a torn last line, and later appends start on a fresh line', () => {
    const store = new StateStore(temp.dir);
    store.appendEvent(event(1));
    appendFileSync(store.eventsPath, '{"at":2,"type":"warn');
    expect(store.readEvents().map((e) => e.at)).toEqual([1]);

    const next = new StateStore(temp.dir);
    next.appendEvent(event(3));
    next.appendEvent(event(4));
    expect(next.readEvents().map((e) => e.at)).toEqual([1, 3, 4]);
  });
});

describe('reset', () => {
  it('keeps the previous run as *.prev and drops pending control requests', async () => {
    const store = new StateStore(temp.dir);
    await store.writeState(snapshot({ stageIndex: 7 }));
    store.appendEvent(event(1));
    writeControl(temp.dir, { action: 'abort', user: 'alice', host: 'h', pid: 1, at: 1 });
    store.reset();
    expect(store.readState()).toBeUndefined();
    expect(store.readEvents()).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(temp.dir, 'state.prev.json'), 'utf8')).stageIndex).toBe(7);
    expect(readFileSync(path.join(temp.dir, 'events.prev.jsonl'), 'utf8')).toContain('"at":1');
    expect(store.takeControlRequests()).toEqual([]);
    store.appendEvent(event(2));
    expect(store.readEvents().map((e) => e.at)).toEqual([2]);
  });

  it('removes temp files a killed writer left behind, and nothing else', () => {
    const store = new StateStore(temp.dir);
    writeFileSync(path.join(temp.dir, '.state.json.4242.a1b2c3.tmp'), '{"half":');
    writeFileSync(path.join(temp.dir, '.hook.json.4242.d4e5f6.tmp'), '{"half":');
    writeFileSync(path.join(temp.dir, '.live.json.4242.a7b8c9.tmp'), '{"half":');
    // A running proxy's route file is written by the proxy, never the rollout's to remove.
    writeFileSync(path.join(temp.dir, '.proxy-route.json.5151.0a0b0c.tmp'), '{"half":');
    writeFileSync(path.join(temp.dir, 'notes.txt'), 'mine');
    store.reset();
    expect(readdirSync(temp.dir).sort()).toEqual(['.proxy-route.json.5151.0a0b0c.tmp', 'notes.txt']);
  });

  it('works on an empty or missing folder', () => {
    const store = new StateStore(path.join(temp.dir, 'new'));
    store.reset();
    mkdirSync(path.join(temp.dir, 'new', 'control'), { recursive: true });
    store.reset();
    expect(existsSync(store.dir)).toBe(true);
  });
});

describe("the journal's last lines", () => {
  it('are read from its end, across windows, as the whole journal ends', () => {
    const temp = tempDir();
    try {
      const store = new StateStore(temp.dir);
      // 300 lines of about 1 KB: more than the first window (64 KiB) holds, cut mid-line.
      for (let at = 1; at <= 300; at += 1) store.appendEvent(event(at, `line ${at} ${'x'.repeat(1000)}`));
      const whole = store.readEvents();
      expect(store.readEvents({ last: 100 })).toEqual(whole.slice(-100));
      expect(store.readEvents({ last: 1000 })).toEqual(whole);
      expect(store.readEvents({ last: 0 })).toEqual([]);
    } finally {
      temp.cleanup();
    }
  });
});
