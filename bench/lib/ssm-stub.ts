// A loopback stand-in for AWS Systems Manager Parameter Store: just enough of its JSON 1.1 protocol
// (POST /, X-Amz-Target: AmazonSSM.GetParameters) for the function's config loader (packages/functions/src/config.ts) to
// fetch a function's bound secrets at cold start, as it does on AWS. Counts the calls it answers.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SsmStub {
  url: string;
  /** GetParameters calls answered so far. */
  calls(): number;
  close(): Promise<void>;
}

/** `values`: parameter name → value. `delayMs`: held before each answer (a network round trip). */
export async function startSsmStub(values: Record<string, string>, delayMs = 0): Promise<SsmStub> {
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = req.headers["x-amz-target"];
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": crypto.randomUUID() });
        res.end(JSON.stringify(body));
      };
      if (target !== "AmazonSSM.GetParameters") return answer(400, { __type: "UnknownOperationException", message: `not stubbed: ${String(target)}` });
      calls++;
      const { Names = [] } = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { Names?: string[] };
      const found = Names.filter((n) => n in values);
      const body = {
        Parameters: found.map((Name) => ({ Name, Type: "SecureString", Value: values[Name], Version: 1, DataType: "text", LastModifiedDate: 1_700_000_000, ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${Name}` })),
        InvalidParameters: Names.filter((n) => !(n in values)),
      };
      setTimeout(() => answer(200, body), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
