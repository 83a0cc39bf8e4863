// The Responses API keeps state upstream: a request may continue an earlier response (`previous_response_id`) or
// a conversation (`conversation`). Such a state lives with the upstream account that answered, so a conversation
// must not flip arm: the proxy remembers which arm answered each response id it passed back (and its output
// items' ids), and sends a continuation of it (or a request naming its items) to that arm while the route still
// gives that arm traffic; reads of a stored response by id go to that arm too (stored-reads.ts). A bounded memory of one proxy
// process: after a restart, or on another replica, the id is unknown and the request is split by its sticky id
// like any other (docs/proxy.md, "Stored state").
import type { ArmName } from '../plan/plan.js';
import { isObject } from '../upstream/shape.js';

/**
 * Response ids remembered at most: past it the oldest are forgotten (about 170 bytes each: 17 MB when full). Their
 * output items' ids are remembered apart, as many at most, so the items of answers with many (tool calls, reasoning)
 * never push response ids out (34 MB when both are full).
 */
const DEFAULT_REMEMBERED_RESPONSES = 100_000;
/**
 * A pin to blue the split never chose: a conversation on arms with separate state (the Conversations API is passed to
 * blue, which holds them), or a continuation of an answer given under one. Served by blue, its result neutral (in
 * no judged sample: docs/proxy.md, "Neutral results"), so no client can fill blue's sample with requests it names.
 */
export const UNSPLIT = 'unsplit';
/** Where stored state sends a request: an arm, or blue outside the split (UNSPLIT). */
export type Pin = ArmName | typeof UNSPLIT;

/** Longer ids are not remembered: an id is a short token (resp_ and 48 hex digits at OpenAI). */
const MAX_ID_LENGTH = 256;

/** A conversation named by a request: its id, whether given as a string or as `{ id }`. */
function conversationId(body: Readonly<Record<string, unknown>>): string | undefined {
  const conversation = body.conversation;
  const id = isObject(conversation) ? conversation.id : conversation;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The sticky id of a Responses API request, first found: `safety_identifier` (its user id), `user` (the older
 * name), `metadata.conversation_id`, `metadata.user_id`, the `conversation` id. Not `prompt_cache_key`: it is often
 * one value for a whole feature, and would put all of its traffic on one arm.
 */
export function responsesStickyKey(body: Readonly<Record<string, unknown>>): string | undefined {
  const metadata = isObject(body.metadata) ? body.metadata : {};
  for (const candidate of [body.safety_identifier, body.user, metadata.conversation_id, metadata.user_id]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  return conversationId(body);
}

/**
 * A background response (`background: true`) is answered `queued` and finished later upstream: the proxy could
 * read its outcome only from the application's polls (GET /v1/responses/{id}, served, see stored-reads.ts), when
 * and if it polls, so it could not judge it, and green would take its share unjudged. Refused (400) rather than
 * answered outside the rollout's figures.
 */
export function refusesResponses(body: Readonly<Record<string, unknown>>): string | undefined {
  if (body.background !== true) return undefined;
  return 'background responses are not served by this proxy: their outcome is known only when polled, so the rollout could not judge them; send the request without background (or to the upstream directly)';
}

/** An input item naming a stored item: an item_reference, or an item passed back with its id. */
function storedItemId(item: unknown): string | undefined {
  return isObject(item) && typeof item.id === 'string' ? item.id : undefined;
}

/** An input list naming stored items. */
function namesStoredItems(input: unknown): boolean {
  return Array.isArray(input) && input.some((item) => storedItemId(item) !== undefined);
}

export class StoredResponses {
  /** Response ids to the arm that answered them, oldest first (a Map keeps insertion order). */
  private readonly responses = new Map<string, Pin>();
  /** Output item ids to the arm that made them, apart (see DEFAULT_REMEMBERED_RESPONSES). */
  private readonly items = new Map<string, Pin>();

  constructor(
    /** Both arms share one upstream and key: either can read the other's stored responses. */
    readonly sharedState: boolean,
    private readonly capacity = DEFAULT_REMEMBERED_RESPONSES,
  ) {}

  /**
   * Whether the answer to `body` is kept upstream, so its response id is worth remembering: not after `store: false`.
   * Its output items are remembered either way: a `store: false` conversation passes them back (encrypted reasoning
   * among them), and only the account that made them can read them.
   */
  static keepsResponse(body: Readonly<Record<string, unknown>>): boolean {
    return body.store !== false;
  }

  /** An answer this proxy passed back: `arm` holds the response `id` and its output items `itemIds` (UNSPLIT: blue, outside the split). */
  remember(id: string | undefined, arm: Pin, itemIds?: readonly string[]): void {
    this.keep(this.responses, id, arm);
    if (itemIds) for (const item of itemIds) this.keep(this.items, item, arm);
  }

  /** Response `id` was deleted upstream (a DELETE answered 2xx): nothing more goes to its arm for it. */
  forget(id: string): void {
    this.responses.delete(id);
  }

  private keep(ids: Map<string, Pin>, id: string | undefined, arm: Pin): void {
    if (id === undefined || id === '' || id.length > MAX_ID_LENGTH) return;
    ids.delete(id);
    ids.set(id, arm);
    if (ids.size > this.capacity) ids.delete(ids.keys().next().value as string);
  }

  /** The arm whose upstream holds response `id`: the one that answered it, or blue (the proxy's default) when unknown. */
  armOf(id: string): ArmName {
    const pin = this.responses.get(id);
    return pin === 'green' ? pin : 'blue';
  }

  /**
   * The arm a request continuing stored state must go to, while the route gives that arm a share (blue below
   * weight 1, green above 0): the arm that answered its previous response, else the one that answered the first
   * stored item its input names by id; on arms with separate state, UNSPLIT for a conversation (blue holds them).
   * Undefined for unknown ids (then it is split as usual) or an arm that gets nothing now (rolled back, promoted):
   * the arm taking all traffic then answers it.
   */
  pinned(body: Readonly<Record<string, unknown>>, greenWeight: number): Pin | undefined {
    const arm = this.holder(body);
    if (arm === 'green') return greenWeight > 0 ? arm : undefined;
    return arm !== undefined && greenWeight < 1 ? arm : undefined;
  }

  private holder(body: Readonly<Record<string, unknown>>): Pin | undefined {
    const previous = body.previous_response_id;
    const arm = typeof previous === 'string' ? this.responses.get(previous) : undefined;
    if (arm !== undefined) return arm;
    if (Array.isArray(body.input)) {
      for (const item of body.input) {
        const id = storedItemId(item);
        const holder = id === undefined ? undefined : (this.items.get(id) ?? this.responses.get(id));
        if (holder !== undefined) return holder;
      }
    }
    return !this.sharedState && conversationId(body) !== undefined ? UNSPLIT : undefined;
  }

  /**
   * The request continues stored state: it is not mirrored. A copy naming the conversation would add green's
   * turn to the application's conversation, and a green on another upstream cannot read blue's responses. Input
   * items named by id (an `item_reference`, or earlier output items passed back with their ids) are stored state
   * too: green's account answers 404 for them (review11).
   */
  refersToState(body: Readonly<Record<string, unknown>>): boolean {
    return typeof body.previous_response_id === 'string' || conversationId(body) !== undefined || namesStoredItems(body.input);
  }

  /** Ids remembered: responses and output items. */
  get size(): { responses: number; items: number } {
    return { responses: this.responses.size, items: this.items.size };
  }
}
