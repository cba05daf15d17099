/**
 * Every request header the API reads, lower case: what a browser may send cross-origin. The deployed
 * CORS configurations (the HTTP API's and each Function URL's, stacks/ApiStack.ts) and the local
 * runtime's preflight (packages/local/src/cors.ts) allow exactly these, so a header the handlers start
 * reading belongs here or browsers cannot send it.
 *  - authorization: a bearer access token or API key (middleware/auth.ts)
 *  - x-api-key: an API key (middleware/auth.ts)
 *  - content-type: a JSON body must say so (middleware/json-body.ts)
 *  - idempotency-key: a retried send is not sent twice (handlers/messages-stream.ts)
 *  - last-event-id: where EventSource resumes a reply (handlers/messages-resume.ts)
 *  - anthropic-version: sent by Anthropic's clients, accepted (handlers/anthropic-messages.ts)
 *  - x-conversation-id: binds an Anthropic or OpenAI call to a conversation (wire/bound.ts)
 */
export const REQUEST_HEADERS = ["authorization", "x-api-key", "content-type", "idempotency-key", "last-event-id", "anthropic-version", "x-conversation-id"] as const;

