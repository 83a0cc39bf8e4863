// Report targets that are not plain files: `--report-json /dev/stdout` (a link to a pipe or a terminal), a named
// pipe, a symlink. A temp file renamed over them would replace the link (as root, /dev/stdout itself) and
// print nothing; they are written in place, and a symlink to a file keeps being a symlink.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, readFileSync, readlinkSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, checkReportTargets, writeReports } from '../../../src/report/outcome/index.js';
import { writeInPlace } from '../../../src/report/outcome/pipe-target.js';
import { appendStepSummary } from '../../../src/report/outcome/markdown.js';
import { tempDir } from '../../helpers/plans.js';
import { killAfterTest } from '../../helpers/processes.js';
import { driftingClock } from '../../helpers/drifting-clock.js';
import { loadTestPlan, rolledBackSnapshot } from './fixtures.js';

const plan = loadTestPlan();
const report = buildReport({ snapshot: rolledBackSnapshot(plan), plan, version: '1' });
const stdout = { write: () => true };

describe('report targets that are not plain files', () => {
  it('a link to a pipe (as /dev/stdout is under `| jq`) gets the report written into the pipe, and stays a link', async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const link = path.join(dir, 'stdout');
    symlinkSync(fifo, link);
    const reader = spawn('cat', [fifo]);
    let text = '';
    reader.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const closed = new Promise((resolve) => reader.on('close', resolve));

    try {
      expect(checkReportTargets({ jsonFile: link, cwd: dir })).toEqual([]);
      writeReports({ report, jsonFile: link, cwd: dir, env: {}, stdout });
      await closed;
    } finally {
      // cat waits for a writer forever if the report went elsewhere.
      reader.kill();
    }
    expect((JSON.parse(text) as { outcome: { exitCode: number } }).outcome.exitCode).toBe(10);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a named pipe nothing reads fails with a sentence instead of hanging the finished rollout for good', () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => writeInPlace(fifo, '{}\n', { readerWaitMs: 100 })).toThrow(`nothing read the named pipe ${fifo} within 0.1s`);
  });

  // leftalone11: the step summary was appended with appendFileSync, whose open blocks until a reader comes (forever).
  it('$GITHUB_STEP_SUMMARY naming a pipe nothing reads fails with a sentence too, not hangs', () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'summary');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => appendStepSummary({ GITHUB_STEP_SUMMARY: fifo }, '# summary', { readerWaitMs: 100 })).toThrow(
      `cannot append the summary to $GITHUB_STEP_SUMMARY (${fifo}): nothing read the named pipe ${fifo} within 0.1s`,
    );
  });

  it('$GITHUB_STEP_SUMMARY naming a pipe someone reads gets the summary; a plain file is appended to', async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'summary');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('cat', [fifo]);
    let text = '';
    reader.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    try {
      expect(appendStepSummary({ GITHUB_STEP_SUMMARY: fifo }, '# summary')).toBe(true);
      await closed;
    } finally {
      reader.kill();
    }
    expect(text).toBe('\n# summary\n');
    const file = path.join(dir, 'summary.md');
    writeFileSync(file, 'earlier step\n');
    appendStepSummary({ GITHUB_STEP_SUMMARY: file }, '# summary');
    expect(readFileSync(file, 'utf8')).toBe('earlier step\n\n# summary\n');
  });

  it('a named pipe whose reader opened it but never reads fails once it takes nothing for a while, not hangs on a large report', () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // `sleep 100 < pipe`: the pipe is open for reading, so the write starts, but nothing drains its buffer (64 KiB).
    const reader = spawn('sh', ['-c', `exec sleep 20 < '${fifo}'`]);
    try {
      const text = `${'x'.repeat(200_000)}\n`;
      expect(() => writeInPlace(fifo, text, { readerWaitMs: 10_000, stallMs: 300 })).toThrow(
        new RegExp(`^the reader of the named pipe ${fifo} took nothing for 0\\.3s \\(\\d[\\d,]* of 200,001 bytes written\\)`),
      );
    } finally {
      reader.kill();
    }
  });

  it('a named pipe whose reader goes away mid-report fails with a sentence saying so', async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Reads the first KiB, then exits: the rest of the report has nowhere to go.
    const reader = killAfterTest(spawn('sh', ['-c', `head -c 1024 < '${fifo}' > /dev/null`]));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    const text = `${'x'.repeat(200_000)}\n`;
    expect(() => writeInPlace(fifo, text, { readerWaitMs: 10_000, stallMs: 10_000 })).toThrow(
      new RegExp(`^the reader of the named pipe ${fifo} closed it after \\d[\\d,]* of 200,001 bytes`),
    );
    await closed;
  });

  it("a named pipe's reader gets a report larger than the pipe's buffer whole", async () => {
    const dir = tempDir();
    const fifo = path.join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Larger than a pipe's buffer, so the writer must wait for the reader rather than fail on a full pipe.
    const text = `${'x'.repeat(200_000)}\n`;
    // Whether the reader opens the pipe before or after writeInPlace starts waiting for one, it gets every byte.
    const reader = killAfterTest(spawn('sh', ['-c', `wc -c < '${fifo}'`]));
    let count = '';
    reader.stdout.on('data', (chunk: Buffer) => (count += chunk.toString()));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    writeInPlace(fifo, text, { readerWaitMs: 10_000 });
    await closed;
    expect(Number(count.trim())).toBe(text.length);
  });

  it('a symlink to a report file: the file is replaced, the link kept', () => {
    const dir = tempDir();
    const real = path.join(dir, 'real.json');
    writeFileSync(real, 'old');
    const link = path.join(dir, 'latest.json');
    symlinkSync(real, link);
    writeReports({ report, jsonFile: 'latest.json', cwd: dir, env: {}, stdout });
    expect(readlinkSync(link)).toBe(real);
    expect((JSON.parse(readFileSync(real, 'utf8')) as { outcome: { phase: string } }).outcome.phase).toBe('rolled_back');
  });
});

describe('a named pipe report target, on a wall clock stepped an hour at every reading', () => {
  const HOUR = 3_600_000;
  const fifoIn = (): string => {
    const fifo = path.join(tempDir(), 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    return fifo;
  };
  /** Everything the pipe holds now (the reader's side opened without blocking), in bytes. */
  const drain = (fd: number): number => {
    const chunk = Buffer.alloc(64 * 1024);
    let total = 0;
    for (;;) {
      try {
        const read = readSync(fd, chunk);
        if (read === 0) return total;
        total += read;
      } catch {
        return total; // EAGAIN: drained for now
      }
    }
  };

  // A step back stretched a wait for the hour (the clock gives up on it), a step forward ended it at once.
  it.each([[-HOUR], [HOUR]])('step %i: the reader wait is steady time, and a reader that comes meanwhile gets the report', (step) => {
    const lonely = fifoIn();
    expect(() => writeInPlace(lonely, '{}\n', { readerWaitMs: 300, clock: driftingClock(step) })).toThrow(`nothing read the named pipe ${lonely} within 0.3s`);
    const fifo = fifoIn();
    let reader: number | undefined;
    // The reader comes at the wait's third reading of the clock: a wall clock stepped forward had given up by then.
    const openAt = (reads: number) => {
      if (reads === 3) reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    };
    writeInPlace(fifo, '{"whole":true}\n', { readerWaitMs: 60_000, clock: driftingClock(step, openAt) });
    try {
      expect(reader).toBeDefined();
      const chunk = Buffer.alloc(64);
      expect(chunk.toString('utf8', 0, readSync(reader!, chunk))).toBe('{"whole":true}\n');
    } finally {
      if (reader !== undefined) closeSync(reader);
    }
  });

  it.each([[-HOUR], [HOUR]])('step %i: a reader taking nothing is given up after steady time, one that drains meanwhile gets it all', (step) => {
    const text = `${'x'.repeat(200_000)}\n`;
    const stuck = fifoIn();
    const idle = openSync(stuck, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      expect(() => writeInPlace(stuck, text, { readerWaitMs: 60_000, stallMs: 300, clock: driftingClock(step) })).toThrow(
        new RegExp(`^the reader of the named pipe ${stuck} took nothing for 0\\.3s`),
      );
    } finally {
      closeSync(idle);
    }
    const fifo = fifoIn();
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    let taken = 0;
    // The reader drains the pipe at every reading of the clock from the fifth on: once the pipe is full, the write
    // waits a reading or two for it, which a wall clock stepped forward took for a stall.
    const drainFrom = (reads: number) => {
      if (reads >= 5) taken += drain(reader);
    };
    try {
      writeInPlace(fifo, text, { readerWaitMs: 60_000, stallMs: 60_000, clock: driftingClock(step, drainFrom) });
      taken += drain(reader);
    } finally {
      closeSync(reader);
    }
    expect(taken).toBe(text.length);
  });
});
