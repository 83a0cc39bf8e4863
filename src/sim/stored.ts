// The simulator's stored Responses API state, as an OpenAI account keeps it: each answered response (unless
// `store: false`) and its items, read back with GET /responses/{id} and /input_items, deleted with DELETE; a request
// continuing a response or naming an item this upstream never stored is refused as OpenAI refuses it. So a test
// with two simulators shows what two upstream accounts do to a conversation that changes arm. Bounded, per
// simulator.
import { isObject } from '../core/json.js';
import type { ErrorReply } from './dialect.js';
import { openaiErrorBody } from './openai.js';

/** Responses kept at most; past it the oldest are forgotten (a long load test must not grow without bound). */
const CAPACITY = 10_000;

interface Stored {
  response: Record<string, unknown>;
  /** The request's input as items, each with an id. */
  input: Record<string, unknown>[];
}

/** The stored-state paths under the simulator's base URL: /responses/{id}, its /cancel and /input_items. */
const STORED_PATH = /^\/responses\/([^/]+)(?:\/(cancel|input_items))?$/;

export function storedPath(path: string): { id: string; action?: 'cancel' | 'input_items' } | undefined {
  const match = STORED_PATH.exec(path);
  if (!match) return undefined;
  const id = decodeURIComponent(match[1] as string);
  return match[2] === undefined ? { id } : { id, action: match[2] as 'cancel' | 'input_items' };
}

const notFound = (what: string, param: string | null, status = 404): ErrorReply => ({
  status,
  body: openaiErrorBody(`${what} not found.`, 'invalid_request_error', param === 'previous_response_id' ? 'previous_response_not_found' : null, param),
});

/** The request's input as the items the API lists: a string is one user message. */
function inputItems(body: Record<string, unknown>, id: string): Record<string, unknown>[] {
  const input: unknown = typeof body.input === 'string' ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: body.input }] }] : body.input;
  if (!Array.isArray(input)) return [];
  return input.map((item: unknown, index) => ({ id: `msg_${id.slice(5)}_in${index}`, ...(isObject(item) ? item : { content: item }) }));
}

/** Ids an input names stored items by: item_reference items, and items passed back with their `id`. */
function namedItemIds(body: Record<string, unknown>): string[] {
  if (!Array.isArray(body.input)) return [];
  return body.input.flatMap((item) => (isObject(item) && typeof item.id === 'string' ? [item.id] : []));
}

export class ResponseStore {
  private readonly responses = new Map<string, Stored>();
  /** Output item id to its response id. */
  private readonly items = new Map<string, string>();

  /** Why this account cannot answer `body` (a previous response or an item it does not hold), if it cannot. */
  refuses(body: unknown): ErrorReply | undefined {
    if (!isObject(body)) return undefined;
    const previous = body.previous_response_id;
    if (typeof previous === 'string' && !this.responses.has(previous)) return notFound(`Previous response with id '${previous}'`, 'previous_response_id', 400);
    const missing = namedItemIds(body).find((id) => !this.items.has(id));
    return missing === undefined ? undefined : notFound(`Item with id '${missing}'`, 'input', 400);
  }

  /** An answered response: kept unless the request said `store: false`. */
  save(body: unknown, response: Record<string, unknown>): void {
    if (!isObject(body) || body.store === false || typeof response.id !== 'string') return;
    const id = response.id;
    this.responses.set(id, { response, input: inputItems(body, id) });
    for (const item of Array.isArray(response.output) ? response.output : []) if (isObject(item) && typeof item.id === 'string') this.items.set(item.id, id);
    if (this.responses.size > CAPACITY) this.forget(this.responses.keys().next().value as string);
  }

  /** GET, DELETE /responses/{id}, POST /responses/{id}/cancel, GET /responses/{id}/input_items. */
  serve(method: string, path: { id: string; action?: 'cancel' | 'input_items' }): ErrorReply | undefined {
    const expected = path.action === 'cancel' ? ['POST'] : path.action === 'input_items' ? ['GET'] : ['GET', 'DELETE'];
    if (!expected.includes(method)) return undefined;
    const stored = this.responses.get(path.id);
    if (!stored) return notFound(`Response with id '${path.id}'`, null);
    if (path.action === 'input_items') {
      const data = stored.input;
      return { status: 200, body: { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false } };
    }
    if (path.action === 'cancel') {
      // Only a background response can be cancelled; the simulator answers every response at once.
      return { status: 400, body: openaiErrorBody('Only responses created with background=true can be cancelled.', 'invalid_request_error', null, null) };
    }
    if (method === 'DELETE') {
      this.forget(path.id);
      return { status: 200, body: { id: path.id, object: 'response', deleted: true } };
    }
    return { status: 200, body: stored.response };
  }

  private forget(id: string): void {
    const stored = this.responses.get(id);
    this.responses.delete(id);
    for (const item of Array.isArray(stored?.response.output) ? stored.response.output : []) if (isObject(item)) this.items.delete(item.id as string);
  }
}
