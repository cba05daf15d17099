import { zodToOpenAPIRegistry, type OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import {
  Conversation,
  ConversationPage,
  ConversationWithMessages,
  CreateConversationRequest,
  ErrorBody,
  ErrorType,
  Health,
  LoginRequest,
  ListedMessage,
  Message,
  MessagePage,
  RegenerateRequest,
  BranchRequest,
  BranchResponse,
  RegisterRequest,
  StreamEvents,
  StreamRequest,
  StoredToolResult,
  TextBlock,
  ToolResultBlock,
  TokenResponse,
  RefreshRequest,
  ChangePasswordRequest,
  LogoutAllResponse,
  CreateApiKeyRequest,
  ApiKey,
  CreatedApiKey,
  ApiKeyList,
  UpdateConversationRequest,
  UsageReport,
  UsageRow,
  User,
} from "@conversation-api/core";
import * as z from "zod";
import {
  AnthropicCountTokensRequest,
  AnthropicCountTokensResponse,
  AnthropicError,
  AnthropicMessage,
  AnthropicMessagesRequest,
  AnthropicModelList,
  AnthropicStreamEvent,
} from "../wire/anthropic/schemas";
import { OpenAIChatChunk, OpenAIChatCompletion, OpenAIChatRequest, OpenAIError, OpenAIModelList } from "../wire/openai/schemas";

// The shapes a client codes against get names under components/schemas: the generator then writes a
// `$ref` wherever the same zod instance appears (inside other schemas, in requests and responses).
// The component name is the core export's name, so the document and the code use one vocabulary.
const NAMED = {
  ErrorType,
  ErrorBody,
  User,
  RegisterRequest,
  LoginRequest,
  TokenResponse,
  RefreshRequest,
  ChangePasswordRequest,
  LogoutAllResponse,
  CreateApiKeyRequest,
  ApiKey,
  CreatedApiKey,
  ApiKeyList,
  Message,
  ListedMessage,
  Conversation,
  ConversationWithMessages,
  ConversationPage,
  MessagePage,
  CreateConversationRequest,
  UpdateConversationRequest,
  StreamRequest,
  // The content blocks of a send, and a tool result as stored with its message.
  TextBlock,
  ToolResultBlock,
  StoredToolResult,
  RegenerateRequest,
  BranchRequest,
  BranchResponse,
  Health,
  UsageRow,
  UsageReport,
  // The Anthropic Messages and OpenAI Chat Completions formats, under their own names.
  AnthropicMessagesRequest,
  AnthropicCountTokensRequest,
  AnthropicCountTokensResponse,
  AnthropicMessage,
  AnthropicModelList,
  AnthropicStreamEvent,
  AnthropicError,
  OpenAIChatRequest,
  OpenAIChatCompletion,
  OpenAIChatChunk,
  OpenAIModelList,
  OpenAIError,
} satisfies Record<string, z.ZodType>;

/** `message_start` → `MessageStartEvent`: the component that describes that SSE event's `data`. */
export const eventSchemaName = (event: string) =>
  event.replace(/(^|_)([a-z])/g, (_m, _sep, c: string) => c.toUpperCase()) + "Event";

/**
 * Names the shared schemas and adds the security scheme. Returns the named schemas (for the generator,
 * so each becomes a component even where no route uses it) and the two every route needs.
 */
export function registerComponents(registry: OpenAPIRegistry) {
  const named: z.ZodType[] = [];
  const name = <S extends z.ZodType>(refId: string, schema: S): S => {
    // `registry.register` would name a *copy* (zod 4 schemas are immutable), and the originals nested
    // in other schemas would stay inline. Tagging the instance itself makes every use a `$ref`.
    zodToOpenAPIRegistry.add(schema, { _internal: { refId } });
    named.push(schema);
    return schema;
  };

  for (const [refId, schema] of Object.entries(NAMED)) name(refId, schema);
  for (const [event, schema] of Object.entries(StreamEvents)) {
    // The discriminator mapping below keys on `type`; it is only right if `type` is the SSE event name.
    if (schema.shape.type.value !== event) throw new Error(`StreamEvents.${event} has type "${schema.shape.type.value}"`);
    name(eventSchemaName(event), schema);
  }
  // Every event's `data` carries its name in `type`, so one discriminated union describes the stream
  // and its discriminator mapping tells a client (and our tests) which schema each `event:` has.
  const events = Object.values(StreamEvents) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]];
  const streamEvent = name("StreamEvent", z.discriminatedUnion("type", events));

  registry.registerComponent("securitySchemes", BEARER, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An access token from /auth/login, /auth/register or /auth/refresh (or an API key, cak_…, sent the same way)",
  });
  registry.registerComponent("securitySchemes", API_KEY, {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key (cak_…) from POST /api/v1/api-keys; also accepted as Authorization: Bearer cak_…",
  });
  return { named, shared: { ErrorBody, streamEvent } };
}

export const BEARER = "bearerAuth";
export const API_KEY = "apiKey";
