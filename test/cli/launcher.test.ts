// The launcher watch's parts: /proc parsing, and a parent change counted as SIGTERM (the npm paths: test/e2e/launcher.test.ts).
import { describe, expect, it } from 'vitest';
import { launchChain, processInfo, watchLauncher, type LauncherEnd } from '../../src/cli/launcher.js';

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
});
