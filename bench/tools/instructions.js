// Instructions a call of one in-process piece costs, per build: a load-independent A/B for the shared machine, where
// time (even the lowest of interleaved rounds) moves by more than the changes measured (session 31). Each build's
// piece runs under valgrind's cachegrind (no cache simulation) in a node with --single-threaded (V8 compiles on the
// main thread, so its helper threads add nothing unseen), once for FEW and once for MANY calls; the difference over
// MANY - FEW leaves out start-up, loading and the first compilations. Repeat it, builds in both orders, to see the
// spread (session 31: about 1% from run to run of one build). A run takes about a minute per build and count.
//   node bench/tools/instructions.js PIECE [BUILD_DIR ...]   (PIECE: stream | request | headers | answer-head; default build: this checkout)
//   node bench/tools/instructions.js PIECE --run BUILD_DIR COUNT   (what each valgrind run executes)
import { spawnSync } from 'node:child_process';
import { ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openAiStreamBody } from '../lib/bench-stream.js';
import { benchChatBody } from '../lib/proxies.js';

const FEW = 4_000;
const MANY = 16_000;
const [piece, ...rest] = process.argv.slice(2);
const load = async (/** @type {string} */ dir, /** @type {string} */ file) => import(pathToFileURL(resolve(dir, 'dist', file)).href);

/** 64 header sets: a hosted API's answer headers (request ids, rate-limit counts, dates) and an SDK's request headers. */
function headerSets() {
  return Array.from({ length: 64 }, (_, k) => ({
    answer: {
      date: `Sat, 05 Dec 2026 09:${String(10 + k).slice(-2)}:00 GMT`,
      'content-type': 'application/json',
      'content-length': String(400 + k),
      connection: 'keep-alive',
      'keep-alive': 'timeout=120',
      'openai-processing-ms': String(300 + k),
      'openai-version': '2020-10-01',
      'x-request-id': `req_${k}0b5e3c9d1f2a4e6b8c0d2e4f6a8b0c`,
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': String(9999 - k),
      'x-ratelimit-reset-requests': `${k}ms`,
      'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
      'cf-cache-status': 'DYNAMIC',
      server: 'cloudflare',
      'cf-ray': `8f${k}a1b2c3d4e5f6-SJC`,
    },
    request: {
      host: '127.0.0.1:8080',
      connection: 'keep-alive',
      'content-type': 'application/json',
      authorization: 'Bearer bench-client',
      'content-length': String(150 + k),
      'user-agent': 'OpenAI/JS 4.67.3',
      'x-stainless-lang': 'js',
      'x-stainless-package-version': '4.67.3',
      'x-stainless-retry-count': '0',
      accept: 'application/json',
    },
  }));
}

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
  if (piece === 'headers') {
    // Session 34: an answer's headers passed on (the upstream key searched for in each name and value) and the
    // request's headers forwarded, each call on another of 64 header sets: a hosted API's answer headers (request
    // ids, rate-limit counts, dates) and an SDK's request headers, the key the bench plan's.
    const { passHeaders, forwardedHeaders } = await load(dir, 'proxy/respond.js');
    const { HeaderKeys } = await load(dir, 'proxy/header-keys.js');
    const keys = new HeaderKeys(['bench-not-a-secret']);
    const tag = { arm: 'blue', fallback: false };
    const sets = headerSets();
    let n = 0;
    return () => {
      const set = sets[n++ & 63];
      return [passHeaders(set.answer, tag, keys), forwardedHeaders(set.request)];
    };
  }
  if (piece === 'answer-head') {
    // Session 35: an answer's headers passed on and its head written by writeHead (a ServerResponse with no socket:
    // the head is built, not sent), as sendWhole does: an object (passHeaders) before, a flat list after.
    const respond = await load(dir, 'proxy/respond.js');
    const { HeaderKeys } = await load(dir, 'proxy/header-keys.js');
    const keys = new HeaderKeys(['bench-not-a-secret']);
    const tag = { arm: 'blue', fallback: false };
    const sets = headerSets();
    const req = /** @type {import('node:http').IncomingMessage} */ (
      /** @type {unknown} */ ({ method: 'POST', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} })
    );
    let n = 0;
    return () => {
      const set = sets[n++ & 63];
      const res = new ServerResponse(req);
      if (respond.passedHeaderList) {
        const list = respond.passedHeaderList(set.answer, tag, keys);
        list.push('content-length', '400');
        res.writeHead(200, list);
      } else {
        const headers = respond.passHeaders(set.answer, tag, keys);
        headers['content-length'] = 400;
        res.writeHead(200, headers);
      }
      return res;
    };
  }
  throw new Error(`unknown piece ${JSON.stringify(piece)}: stream, request, headers or answer-head`);
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
