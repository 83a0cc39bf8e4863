import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
const upstream = await startUpstream({ delayMs: 0 });
const t = await spawnProxy(upstream.baseUrl, ['--import=/tmp/p18/dbg.mjs'], process.argv[2]);
const client = createLoadClient(t.origin);
await client.run({ path: '/v1/chat/completions', body: benchChatBody('stream'), rate: 5, seconds: 1 });
await client.close(); await t.close(); await upstream.close();
