// The Responses API's shapes as an upstream sends them, for scripted upstreams in the proxy's tests.

/** One SSE event as the Responses API sends it: an `event:` line naming its type, then its JSON. */
export const responsesEvent = (data: Record<string, unknown>): string => `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;

/** A response object (the whole answer, or the one a stream's events carry). */
export function responseObject(id: string, model: string, status: string, output: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id,
    object: 'response',
    created_at: 1,
    status,
    error: null,
    incomplete_details: null,
    model,
    output,
    usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 },
    ...extra,
  };
}

/** An assistant message item of one text part. */
export const textItem = (text: string) => ({
  id: 'msg_1',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
});
