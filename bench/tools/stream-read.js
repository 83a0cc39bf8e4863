// What reading a streamed answer costs the proxy (src/proxy/stream-watch.ts with the dialect's shared reader),
// in-process: the bench upstream's OpenAI stream and the same answer as an Anthropic stream, each fed as one
// chunk as the bench upstream sends it. Builds given as arguments (a checkout's folder, built) run interleaved
// in one process, the lowest of the rounds reported: an A/B that the machine's drift affects far less than CPU
// per request of a whole proxy does. Then the bytes each allocates a stream, exact (bench/lib/allocated.js).
//   node bench/tools/stream-read.js [BUILD_DIR ...]   (default: this checkout)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { countAllocation } from '../lib/allocated.js';
import { anthropicStreamBody, openAiStreamBody } from '../lib/bench-stream.js';

const ROUNDS = 8;
const STREAMS = 20_000;
const builds = process.argv.length > 2 ? process.argv.slice(2) : [new URL('../..', import.meta.url).pathname];

/** @type {{ name: string, read: () => unknown }[]} */
const cases = [];
for (const dir of builds) {
  const dist = (/** @type {string} */ file) => pathToFileURL(resolve(dir, 'dist', file)).href;
  const { StreamWatch } = /** @type {typeof import('../../dist/proxy/stream-watch.js')} */ (await import(dist('proxy/stream-watch.js')));
  const { openAiDialect } = /** @type {typeof import('../../dist/upstream/openai.js')} */ (await import(dist('upstream/openai.js')));
  const { anthropicDialect } = /** @type {typeof import('../../dist/upstream/anthropic.js')} */ (await import(dist('upstream/anthropic.js')));
  for (const [api, dialect, body] of /** @type {const} */ ([
    ['openai', openAiDialect, openAiStreamBody],
    ['anthropic', anthropicDialect, anthropicStreamBody],
  ])) {
    const readers = dialect.sharedStreamReaders();
    // Since session 22 a StreamWatch takes its reader's maker (made at its first read); older builds, the reader.
    const lazy = String(StreamWatch).includes('makeReader');
    cases.push({
      name: `${api} ${dir}`,
      read: () => {
        const watch = new StreamWatch(lazy ? readers : /** @type {any} */ (readers()), Date.now, 1 << 20);
        watch.feed(body);
        const outcome = watch.end();
        if (!outcome.ok) throw new Error(`${api}: ${outcome.reason}`);
        return outcome;
      },
    });
  }
}

const lowest = new Map(cases.map((c) => [c.name, Infinity]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < STREAMS; i++) c.read();
    const us = Number(process.hrtime.bigint() - started) / 1000 / STREAMS;
    lowest.set(c.name, Math.min(lowest.get(c.name) ?? Infinity, us));
  }
}
// Bytes allocated a stream (exact, and the same from run to run: no load moves it).
const bytes = new Map();
for (const c of cases) {
  const counting = countAllocation();
  for (let i = 0; i < STREAMS; i++) c.read();
  bytes.set(c.name, Math.round(counting.stop().allocated / STREAMS));
}
for (const [name, us] of lowest)
  process.stdout.write(`${name}: ${us.toFixed(2)} us a stream (lowest of ${ROUNDS} rounds of ${STREAMS}), ${bytes.get(name)} bytes allocated a stream\n`);
