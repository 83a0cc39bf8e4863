// Runs autocannon (the dev dependency) in its own process against a URL and returns its summary.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const CLI = path.join(path.dirname(require.resolve('autocannon/package.json')), 'autocannon.js');

/**
 * @param {{ url: string, connections: number, seconds: number, method?: string, headers?: Record<string,string>, body?: string }} o
 */
export function runAutocannon(o) {
  const args = [CLI, '--json', '--connections', String(o.connections), '--duration', String(o.seconds), '--method', o.method ?? 'POST'];
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push('--headers', `${name}=${value}`);
  if (o.body !== undefined) args.push('--body', o.body);
  args.push(o.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 30) * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err.slice(-500)}`));
      try {
        const r = JSON.parse(out);
        resolve({
          requestsPerSecond: r.requests.average,
          total: r.requests.total,
          seconds: r.duration,
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          latencyMs: { p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average },
        });
      } catch (error) {
        reject(new Error(`could not read autocannon's JSON: ${error instanceof Error ? error.message : String(error)}`));
      }
    });
  });
}
