// scratch: syscalls a request by strace -c, bare vs proxy vs base
import { spawn } from 'node:child_process';
import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, forkBare, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
const [rate = 500, seconds = 4, mode = 'plain'] = process.argv.slice(2);
const upstream = await startUpstream({ delayMs: 0 });
const targets = { bare: await forkBare(`http://127.0.0.1:${upstream.port}`), proxy: await spawnProxy(upstream.baseUrl) };
if (process.env.PROXY_BASE_BIN) targets.base = await spawnProxy(upstream.baseUrl, [], process.env.PROXY_BASE_BIN);
const body = benchChatBody(mode);
for (const [name, t] of Object.entries(targets)) {
  const client = createLoadClient(t.origin);
  await client.run({ path: '/v1/chat/completions', body, rate: Number(rate), seconds: 2 });
  const out = `/tmp/p18/strace-${name}-${mode}.txt`;
  const st = spawn('strace', ['-c', '-f', '-o', out, '-p', String(t.pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const res = await client.run({ path: '/v1/chat/completions', body, rate: Number(rate), seconds: Number(seconds) });
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  await client.close();
  console.log(name, res.completed, out);
}
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();
