// A Function URL's invocation event (payload format 2.0) for a streamed send, as Lambda hands it to a
// deployed stream function: what the tests and the bench give a bundle run outside the local runtime.
import { randomUUID } from "node:crypto";

export function sendEvent(conversationId: string, token: string, host = "test") {
  const path = `/api/v1/conversations/${conversationId}/messages/stream`;
  const domainName = `${host}.lambda-url.us-east-1.on.aws`;
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", host: domainName },
    requestContext: {
      accountId: "anonymous",
      apiId: host,
      domainName,
      domainPrefix: host,
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: host },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: JSON.stringify({ content: "Say hello." }),
    isBase64Encoded: false,
  };
}
