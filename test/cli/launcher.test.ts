// The launcher watch's parts: /proc parsing, and a parent change counted as SIGTERM (the npm paths: test/e2e/launcher.test.ts).
import { describe, expect, it } from 'vitest';
import { launchChain, processInfo, relaySigint, watchLauncher, type LauncherEnd } from '../../src/cli/launcher.js';
import { FakeClock } from '../helpers/fake-clock.js';

const LINUX = process.platform === 'linux';

describe('launcher watch', () => {
  it.skipIf(!LINUX)('reads a process from /proc, a comm with spaces and parentheses included', () => {
    const self = processInfo(process.pid);
    expect(self).toMatchObject({ pid: process.pid, ppid: process.ppid });
    expect(self?.startTime).toMatch(/^\d+$/);
    expect(processInfo(2 ** 22 + 12345)).toBeUndefined();
  });

  it.skipIf(!LINUX)('watches only the parent when npm did not launch the process', () => {
    expect(launchChain({}, process.ppid).map((p) => p.pid)).toEqual([process.ppid]);
  });

  it('counts a changed parent (the launcher died, the process was re-parented) as SIGTERM', async () => {
    let parent = process.ppid;
    const ended = new Promise<LauncherEnd>((resolve) => {
      watchLauncher({ env: {}, ppid: () => parent, intervalMs: 5, onEnd: resolve });
    });
    parent = 1;
    const end = await ended;
    expect(end.signal).toBe('SIGTERM');
    expect(end.cause).toMatch(/^its launcher .*exiting$/);
  });

  it("tells a SIGINT to the relay shell from a stop's wake-up by steady time, whichever way the wall clock steps", async () => {
    const HOUR = 3_600_000;
    for (const step of [-HOUR, HOUR]) {
      // A SIGINT between two polls on time: on the wall clock, a step forward read the poll as late and missed it.
      const clock = new FakeClock();
      let switches = 10;
      const sigint = relaySigint(() => switches, 250, clock);
      await clock.advance(250);
      expect(sigint()).toBe(false);
      clock.jumpWall(step);
      await clock.advance(250);
      switches++;
      expect(sigint()).toBe(true);
      // This process stopped a while (ctrl-z), which woke the shell: on the wall clock, a step back read the late
      // poll as on time and took the wake-up for a SIGINT.
      const stopped = relaySigint(() => switches, 250, clock);
      await clock.advance(250);
      expect(stopped()).toBe(false);
      clock.jumpWall(step);
      await clock.advance(10_000);
      switches++;
      expect(stopped()).toBe(false);
    }
  });
});
