import { notFound } from "../errors";
import type { UserStore } from "../ports";
import type { Conversation, ConversationWithMessages, CreateConversationRequest, UpdateConversationRequest } from "../schemas";
import { assertModelAllowed } from "../chat/stream-reply";

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

export async function getConversation(store: UserStore, id: string): Promise<ConversationWithMessages> {
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

export async function listMessages(store: UserStore, id: string, page: { limit: number; cursor?: string | undefined }) {
  return (await store.listMessages(id, page)) ?? Promise.reject(notFound("Conversation"));
}
