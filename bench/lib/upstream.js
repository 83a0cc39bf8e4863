// Starts the bench upstream (bench/lib/upstream-server.js) in a child process and talks to it over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./upstream-server.js', import.meta.url));

/**
 * `nodeArgs`: flags for the server's node (a probe loaded with --import), none by default.
 * @param {{ delayMs?: number, nodeArgs?: string[] }} [options]
 * @returns {Promise<{ port: number, pid: number | undefined, baseUrl: string, stats(): Promise<{completions: number, cpuMs: number}>, close(): Promise<void> }>}
 */
export function startUpstream(options = {}) {
  const child = fork(SERVER, [], {
    env: { ...process.env, BENCH_DELAY_MS: String(options.delayMs ?? 0) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Not the parent's flags (--cpu-prof, --expose-gc): the server is not what is measured.
    execArgv: options.nodeArgs ?? [],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('bench upstream did not start within 10 s'));
    }, 10_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench upstream exited early (${code})`)));
    child.once('message', (message) => {
      clearTimeout(timer);
      const { port } = /** @type {{ port: number }} */ (message);
      resolve({
        port,
        pid: child.pid,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        stats: () =>
          new Promise((done) => {
            const onMessage = (m) => {
              if (m?.type !== 'stats') return;
              child.off('message', onMessage);
              done({ completions: m.completions, cpuMs: m.cpuMs });
            };
            child.on('message', onMessage);
            child.send({ type: 'stats' });
          }),
        close: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.send({ type: 'close' });
          }),
      });
    });
  });
}
