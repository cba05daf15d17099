/**
 * The longest a reply may run: the streaming functions' Lambda timeout (stacks/route-functions.ts reads
 * it from here). The first token may take FIRST_TOKEN_TIMEOUT_MS (30 s) plus Groq retries, and a long
 * answer streams for a minute or more; 5 minutes leaves room and still bounds a stuck call. On the
 * forwarded-token path a reply is saved with the caller's access token, so a stream must not start on a
 * token that expires sooner than this (middleware/auth.ts).
 */
export const REPLY_MAX_DURATION_SECONDS = 300;
