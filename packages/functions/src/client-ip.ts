import type { APIGatewayProxyEventV2 } from "aws-lambda";

/**
 * The caller's address as the platform saw it (API Gateway / Function URL: the TCP peer). Never a
 * header: X-Forwarded-For and friends are whatever the client chose to send.
 */
export const clientIp = (event: APIGatewayProxyEventV2): string => event.requestContext?.http?.sourceIp || "unknown";
