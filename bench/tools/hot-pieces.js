// Two pieces of the proxy's request path timed in-process, builds side by side (session 28): bodyForArm (the arm's
// request body: the bytes as they came for blue, the model spliced for green) on the bench body and on a 13 KB
// conversation, and the OpenAI stream reading (StreamWatch with the upstream's shared reader) of 8 streams with
// distinct ids fed one event at a time, round robin, as streams read at once interleave. Builds run in interleaved
// rounds in one process; min and median of the rounds. A whole proxy's CPU a request cannot resolve these. Since
// session 30 also the read of a whole answer (readCollected with the target's answer reader, where the build has
// one) on 64 answers spelled as the bench upstream's, their id, created, counts and text differing.
//   node bench/tools/hot-pieces.js [BUILD_DIR ...]   (default: this checkout; a build is a folder with dist/)
// Since session 31 also parseRequestBody (the request read before routing) on the same bodies.
//   HOT_PIECES=answer node bench/tools/hot-pieces.js ...   (only some of: request, body, stream, answer)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openAiStreamBody } from '../lib/bench-stream.js';

const ROUNDS = 20;
const pieces = (process.env.HOT_PIECES ?? 'request,body,stream,answer').split(',');
const builds = process.argv.length > 2 ? process.argv.slice(2) : [new URL('../..', import.meta.url).pathname];
const load = async (/** @type {string} */ dir, /** @type {string} */ file) => import(pathToFileURL(resolve(dir, 'dist', file)).href);

/** Request bodies of `turns` messages (64 of them, the text differing), with their text and parse. */
function bodies(/** @type {number} */ turns) {
  return Array.from({ length: 64 }, (_, k) => {
    const line = `How do I reset my password? I tried the link ${k} times and it did not arrive.`;
    const content = turns === 1 ? line : `${line}\n Some more text to make the turn longer: a paragraph of prose, numbers 1234 and so on.`;
    const messages = Array.from({ length: turns }, (_, j) => ({ role: j % 2 ? 'assistant' : 'user', content }));
    const text = JSON.stringify({ model: 'bench-blue', messages, max_tokens: 64, stream: true, stream_options: { include_usage: true } });
    return { raw: Buffer.from(text), text, body: JSON.parse(text) };
  });
}

/** Times each build's `run` (`count` calls a round) over interleaved rounds; prints min and median per call. */
function compare(
  /** @type {string} */ label,
  /** @type {{ dir: string; run: () => void }[]} */ cases,
  /** @type {number} */ count,
  /** @type {number} */ per = 1,
) {
  const times = cases.map(() => /** @type {number[]} */ ([]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? cases.map((_, i) => i) : cases.map((_, i) => cases.length - 1 - i);
    for (const i of order) {
      const started = process.hrtime.bigint();
      for (let n = 0; n < count; n++) cases[i].run();
      times[i].push(Number(process.hrtime.bigint() - started) / (count * per));
    }
  }
  cases.forEach(({ dir }, i) => {
    const sorted = times[i].sort((a, b) => a - b);
    process.stdout.write(`${label} ${dir}: min ${(sorted[0] / 1000).toFixed(2)} median ${(sorted[ROUNDS >> 1] / 1000).toFixed(2)} us\n`);
  });
}

for (const turns of pieces.includes('request') ? [1, 60] : []) {
  const list = bodies(turns);
  const cases = [];
  for (const dir of builds) {
    const { parseRequestBody } = await load(dir, 'proxy/request-json.js');
    let i = 0;
    cases.push({ dir, run: () => void parseRequestBody(list[i++ & 63].raw) });
  }
  compare(`parseRequestBody ${list[0].text.length} B`, cases, turns === 1 ? 100_000 : 2_000);
}

for (const turns of pieces.includes('body') ? [1, 60] : []) {
  const list = bodies(turns);
  for (const model of ['bench-blue', 'bench-green']) {
    const target = { keepsBody: () => true, bodyModel: model, prepare: (/** @type {object} */ b) => ({ ...b, model }) };
    const cases = [];
    for (const dir of builds) {
      const { bodyForArm } = await load(dir, 'proxy/rewrite.js');
      let i = 0;
      cases.push({ dir, run: () => void bodyForArm(list[i & 63].raw, list[i & 63].text, list[i++ & 63].body, target) });
    }
    compare(`bodyForArm ${list[0].text.length} B, ${model === 'bench-blue' ? 'blue (as it came)' : 'green (spliced)'}`, cases, turns === 1 ? 100_000 : 2_000);
  }
}

if (pieces.includes('answer')) {
  // As bench/lib/upstream-server.js answers, but for the values that differ from answer to answer.
  const answers = Array.from({ length: 64 }, (_, k) =>
    Buffer.from(
      JSON.stringify({
        id: `chatcmpl-bench${k}`,
        object: 'chat.completion',
        created: 1767225600 + k,
        model: 'bench-model',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: `Thanks for reaching out (${k}). You can reset your password from the account page.` },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 24, completion_tokens: 28 + k, total_tokens: 52 + k },
      }),
    ),
  );
  const cases = [];
  for (const dir of builds) {
    const { readCollected } = await load(dir, 'proxy/collected.js');
    const { openAiDialect } = await load(dir, 'upstream/openai.js');
    const answerReader = openAiDialect.sharedAnswerReader?.();
    let i = 0;
    cases.push({
      dir,
      run: () => {
        if (!readCollected(answers[i++ & 63], openAiDialect.parse, answerReader).ok) throw new Error('an answer was not read');
      },
    });
  }
  compare(`whole answer read, ${answers[0].length} B`, cases, 20_000);
}

const STREAMS = 8;
const events = openAiStreamBody.toString('latin1').split('\n\n').filter(Boolean);
const streams = Array.from({ length: STREAMS }, (_, k) => events.map((event) => Buffer.from(`${event.replace('chatcmpl-bench', `chatcmpl-${k}`)}\n\n`)));
const cases = [];
for (const dir of pieces.includes('stream') ? builds : []) {
  const { StreamWatch } = await load(dir, 'proxy/stream-watch.js');
  const { openAiDialect } = await load(dir, 'upstream/openai.js');
  const readers = openAiDialect.sharedStreamReaders();
  cases.push({
    dir,
    run: () => {
      const watches = streams.map(() => new StreamWatch(readers, Date.now, 1 << 20));
      for (let e = 0; e < events.length; e++) for (let k = 0; k < STREAMS; k++) watches[k].feed(streams[k][e]);
      for (const watch of watches) if (!watch.end().ok) throw new Error('a stream was not read');
    },
  });
}
if (cases.length > 0) compare(`OpenAI stream read, ${STREAMS} interleaved, a stream`, cases, 1_000, STREAMS);
