// Review (review11): Responses API output items the application must act on, besides function and custom tool
// calls. A computer_call, local_shell_call, shell_call, apply_patch_call or mcp_approval_request answer has no
// text by design; read as a text answer it failed quality.min_content_length as "empty content" (fixed: they count
// as tool calls).
import { describe, expect, it } from 'vitest';
import { createQualityChecker } from '../../src/analysis/quality.js';
import { parseResponses, responsesStreamReader } from '../../src/upstream/openai-responses.js';
import { copyReply } from '../../src/upstream/reply.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

const ACTION_ITEMS = [
  {
    type: 'computer_call',
    id: 'cu_1',
    call_id: 'call_1',
    action: { type: 'click', x: 1, y: 2, button: 'left' },
    pending_safety_checks: [],
    status: 'completed',
  },
  { type: 'local_shell_call', id: 'lsh_1', call_id: 'call_2', action: { type: 'exec', command: ['ls'], env: {} }, status: 'completed' },
  { type: 'shell_call', id: 'sh_1', call_id: 'call_3', action: { commands: ['ls'] }, status: 'completed' },
  { type: 'apply_patch_call', id: 'ap_1', call_id: 'call_4', operation: { type: 'update_file', path: 'a.txt', diff: '' }, status: 'completed' },
  { type: 'mcp_approval_request', id: 'mcpr_1', server_label: 'deepwiki', name: 'ask_question', arguments: '{}' },
];

const completed = (item: unknown) => ({ id: 'resp_1', object: 'response', model: 'gpt-5', status: 'completed', output: [item] });

describe('Responses API action items (review11)', () => {
  // BUG (responses11, src/upstream/openai-responses.ts TOOL_CALL_ITEMS): only function_call and custom_tool_call
  // count as tool calls, so these answers are text answers with empty text: finish "stop", a quality failure.
  it.each(ACTION_ITEMS.map((item) => [item.type, item] as const))('a whole answer of one %s counts as a tool call', (_type, item) => {
    const read = parseResponses(completed(item));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.reply.toolCalls).toBe(1);
    const result: UpstreamResult = { arm: 'green', model: 'gpt-5', stream: false, attempts: 1, ok: true, content: '', latencyMs: 1 };
    copyReply(result, read.reply);
    expect(createQualityChecker({ min_content_length: 5 })(result)).toMatchObject({ ok: true });
  });

  it.each(ACTION_ITEMS.map((item) => [item.type, item] as const))('a stream of one %s counts it as a tool call and as first output', (_type, item) => {
    const reader = responsesStreamReader();
    const step = reader.event({ event: 'response.output_item.added', data: JSON.stringify({ type: 'response.output_item.added', output_index: 0, item }) });
    reader.event({ event: 'response.completed', data: JSON.stringify({ type: 'response.completed', response: completed(item) }) });
    expect(step.output).toBe(true);
    const outcome = reader.finish();
    expect(outcome.ok && outcome.reply.toolCalls).toBe(1);
  });
});
