// The streamed answers of the benchmarks: the bench upstream's OpenAI stream (bench/lib/upstream-server.js sends
// it), and the same text as an Anthropic Messages stream (bench/tools/stream-read.js reads both).

const words = 'Thanks for reaching out. You can reset your password from the account page today.'.split(' ');

/** @param {Record<string, unknown>} delta @param {string | null} finish */
const openAiChunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1767225600, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** Seventeen events: the role, fourteen words, the finish reason, usage; then [DONE]. */
export const openAiStreamBody = Buffer.from(
  openAiChunk({ role: 'assistant', content: '' }, null) +
    words.map((w, i) => openAiChunk({ content: (i ? ' ' : '') + w }, null)).join('') +
    openAiChunk({}, 'stop') +
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1767225600, model: 'bench-model', choices: [], usage: { prompt_tokens: 24, completion_tokens: words.length, total_tokens: 24 + words.length } })}\n\n` +
    'data: [DONE]\n\n',
);

/** @param {string} type @param {Record<string, unknown>} data */
const anthropicEvent = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** The same answer as Anthropic streams it: message_start, a text block of fourteen deltas, message_delta, message_stop. */
export const anthropicStreamBody = Buffer.from(
  anthropicEvent('message_start', {
    message: {
      id: 'msg_bench',
      type: 'message',
      role: 'assistant',
      model: 'bench-model',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 24, output_tokens: 1 },
    },
  }) +
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
    words.map((w, i) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: (i ? ' ' : '') + w } })).join('') +
    anthropicEvent('content_block_stop', { index: 0 }) +
    anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: words.length } }) +
    anthropicEvent('message_stop', {}),
);
