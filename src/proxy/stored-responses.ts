// The Responses API keeps state upstream: a request may continue an earlier response (`previous_response_id`) or
// a conversation (`conversation`). Such a state lives with the upstream account that answered, so a conversation
// must not flip arm: the proxy remembers which arm answered each response id it passed back, and sends a
// continuation of it to that arm while the route still gives that arm traffic. A bounded memory of one proxy
// process: after a restart, or on another replica, the id is unknown and the request is split by its sticky id
// like any other (docs/proxy.md, "Stored state").
import type { ArmName } from '../plan/plan.js';
import { isObject } from '../upstream/shape.js';

/** Response ids remembered at most: past it the oldest are forgotten (about 170 bytes each: 17 MB when full). */
export const DEFAULT_REMEMBERED_RESPONSES = 100_000;
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
 * A background response (`background: true`) is answered `queued` and fetched later with GET /v1/responses/{id},
 * which the proxy does not serve: refused (400) rather than sent, answered, and unreadable.
 */
export function refusesResponses(body: Readonly<Record<string, unknown>>): string | undefined {
  if (body.background !== true) return undefined;
  return 'background responses are not served by this proxy: their result is fetched with GET /v1/responses/{id}, which it does not serve; send the request without background';
}

/** An input list naming stored items: an item_reference, or an item passed back with its id. */
function namesStoredItems(input: unknown): boolean {
  if (!Array.isArray(input)) return false;
  return input.some((item) => isObject(item) && (item.type === 'item_reference' || typeof item.id === 'string'));
}

export class StoredResponses {
  /** Response id to the arm that answered it, oldest first (a Map keeps insertion order). */
  private readonly arms = new Map<string, ArmName>();

  constructor(
    /** Both arms share one upstream and key: either can read the other's stored responses. */
    readonly sharedState: boolean,
    private readonly capacity = DEFAULT_REMEMBERED_RESPONSES,
  ) {}

  /** An answer this proxy passed back: `arm` holds the response `id`. */
  remember(id: string | undefined, arm: ArmName): void {
    if (id === undefined || id === '' || id.length > MAX_ID_LENGTH) return;
    this.arms.delete(id);
    this.arms.set(id, arm);
    if (this.arms.size > this.capacity) this.arms.delete(this.arms.keys().next().value as string);
  }

  /**
   * The arm a continuation must go to: the one that answered its previous response, while the route gives that
   * arm a share (blue below weight 1, green above 0). Undefined for an unknown id (then it is split as usual) or
   * an arm that gets nothing now (rolled back, promoted): the arm taking all traffic then answers it.
   */
  pinned(body: Readonly<Record<string, unknown>>, greenWeight: number): ArmName | undefined {
    const previous = body.previous_response_id;
    if (typeof previous !== 'string') return undefined;
    const arm = this.arms.get(previous);
    if (arm === 'green') return greenWeight > 0 ? arm : undefined;
    return arm === 'blue' && greenWeight < 1 ? arm : undefined;
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

  get size(): number {
    return this.arms.size;
  }
}
