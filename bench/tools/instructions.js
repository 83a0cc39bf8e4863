// Instructions a call of one in-process piece costs, per build: a load-independent A/B for the shared machine, where
// time (even the lowest of interleaved rounds) moves by more than the changes measured (session 31). Each build's
// piece runs under valgrind's cachegrind (no cache simulation) in a node with --single-threaded (V8 compiles on the
// main thread, so its helper threads add nothing unseen), once for FEW and once for MANY calls; the difference over
// MANY - FEW leaves out start-up, loading and the first compilations. Repeat it, builds in both orders, to see the
// spread (session 31: about 1% from run to run of one build). A run takes about a minute per build and count.
//   node bench/tools/instructions.js PIECE [BUILD_DIR ...]   (PIECE: stream | request; default build: this checkout)
//   node bench/tools/instructions.js PIECE --run BUILD_DIR COUNT   (what each valgrind run executes)
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openAiStreamBody } from '../lib/bench-stream.js';
import { benchChatBody } from '../lib/proxies.js';

const FEW = 4_000;
const MANY = 16_000;
const [piece, ...rest] = process.argv.slice(2);
const load = async (/** @type {string} */ dir, /** @type {string} */ file) => import(pathToFileURL(resolve(dir, 'dist', file)).href);

/** The piece's call for `dir`'s build. */
async function pieceOf(/** @type {string} */ dir) {
  if (piece === 'stream') {
    // The OpenAI stream reader with an upstream's shared templates on the bench stream's events, each a message
    // object of its own (the first call learns the templates). Reusing one message across calls, with a warm-up
    // call first, moved the same build's figure by up to 5% from run to run; this form, by about 1%.
    const { openAiStreamReader } = await load(dir, 'upstream/openai.js');
    const { TemplateMemory } = await load(dir, 'upstream/openai-delta.js');
    const events = openAiStreamBody
      .toString('latin1')
      .split('\n\n')
      .filter(Boolean)
      .map((event) => event.slice('data: '.length));
    const templates = new TemplateMemory();
    return () => {
      const reader = openAiStreamReader({ templates });
      for (const data of events) reader.event({ data });
      return reader.finish();
    };
  }
  if (piece === 'request') {
    const { parseRequestBody } = await load(dir, 'proxy/request-json.js');
    const raw = Buffer.from(JSON.stringify(benchChatBody('stream')));
    return () => parseRequestBody(raw);
  }
  throw new Error(`unknown piece ${JSON.stringify(piece)}: stream or request`);
}

if (rest[0] === '--run') {
  const call = await pieceOf(rest[1] ?? '.');
  for (let n = Number(rest[2]); n > 0; n--) call();
} else {
  const self = fileURLToPath(import.meta.url);
  const builds = rest.length > 0 ? rest : [fileURLToPath(new URL('../..', import.meta.url))];
  /** Instructions of one valgrind run of `calls` calls (cachegrind's summary, on stderr). */
  const instructions = (/** @type {string} */ dir, /** @type {number} */ calls) => {
    const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null'];
    const run = spawnSync('valgrind', [...args, process.execPath, '--single-threaded', self, piece, '--run', dir, String(calls)], { encoding: 'utf8' });
    const refs = /I\s+refs:\s+([\d,]+)/.exec(run.stderr ?? '');
    if (run.status !== 0 || !refs) throw new Error(`valgrind on ${dir} failed: ${run.error?.message ?? run.stderr}`);
    return Number(refs[1].replaceAll(',', ''));
  };
  for (const dir of builds) {
    const few = instructions(dir, FEW);
    const many = instructions(dir, MANY);
    process.stdout.write(`${piece} ${dir}: ${Math.round((many - few) / (MANY - FEW))} instructions a call\n`);
  }
}
