import { notFound } from "../errors";
import type { UserStore } from "../ports";
import type { Conversation, ConversationWithMessages, CreateConversationRequest, UpdateConversationRequest } from "../schemas";
import { assertModelAllowed } from "../chat/plan";

export async function createConversation(
  store: UserStore,
  req: CreateConversationRequest,
  models: { default: string; allowed: string[] },
): Promise<Conversation> {
  const model = req.model ?? models.default;
  assertModelAllowed(model, models.allowed);
  return store.createConversation({ title: req.title ?? null, system_prompt: req.system_prompt ?? null, model });
}

/** How many messages `GET /conversations/{id}` embeds; older ones are paged through /messages. */
export const EMBEDDED_MESSAGES = 100;

/**
 * A reply whose producer died would read as streaming forever: readers settle stale ones first (one
 * cheap statement; the partial index on streaming replies keeps it so).
 */
const settle = (store: UserStore, id: string, staleMs: number | undefined) =>
  staleMs === undefined ? Promise.resolve(0) : store.settleStaleReplies(id, staleMs);

export async function getConversation(store: UserStore, id: string, staleMs?: number): Promise<ConversationWithMessages> {
  await settle(store, id, staleMs);
  const [conversation, page] = await Promise.all([
    store.getConversation(id),
    store.listMessages(id, { limit: EMBEDDED_MESSAGES }),
  ]);
  if (!conversation || !page) throw notFound("Conversation");
  return { ...conversation, messages: page.data };
}

export async function updateConversation(store: UserStore, id: string, req: UpdateConversationRequest) {
  const patch: { title?: string | null; system_prompt?: string | null } = {};
  if (req.title !== undefined) patch.title = req.title;
  if (req.system_prompt !== undefined) patch.system_prompt = req.system_prompt;
  return (await store.updateConversation(id, patch)) ?? Promise.reject(notFound("Conversation"));
}

export async function deleteConversation(store: UserStore, id: string): Promise<void> {
  if (!(await store.deleteConversation(id))) throw notFound("Conversation");
}

export async function listMessages(store: UserStore, id: string, page: { limit: number; cursor?: string | undefined }, staleMs?: number) {
  await settle(store, id, staleMs);
  return (await store.listMessages(id, page)) ?? Promise.reject(notFound("Conversation"));
}

/** POST /conversations/{id}/branch. 404 when the message is not in this user's conversation. */
export async function switchBranch(store: UserStore, id: string, messageId: string): Promise<{ leaf_id: string }> {
  const leaf = await store.switchBranch(id, messageId);
  if (!leaf) throw notFound("Message");
  return { leaf_id: leaf };
}
