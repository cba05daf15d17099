// The cold-start secret fetch signs GetParameters itself (aws4, over node:http) instead of loading the AWS SDK.
// A loopback SSM stand-in checks each request's SigV4 signature by signing the same request again with
// the AWS SDK's own signer (@smithy/signature-v4), so a signature SSM would refuse fails here.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ssmGetParameters } from "../src/config";

const creds = { accessKeyId: "ASIATESTTESTTESTTEST", secretAccessKey: "test/secret/test/secret/test/secret/abcd", sessionToken: "session-token" };
const stored: Record<string, string> = { "/sst/app/stage/Secret/JWT_SECRET/value": "s3cret" };
const seen: { target: string | undefined; valid: boolean; names: string[] }[] = [];
let url = "";
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const names = (JSON.parse(body) as { Names: string[] }).Names;
    seen.push({ target: req.headers["x-amz-target"] as string | undefined, valid: await signatureValid(req, body), names });
    res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
    res.end(
      JSON.stringify({
        Parameters: names.filter((n) => n in stored).map((Name) => ({ Name, Value: stored[Name], Type: "SecureString" })),
        InvalidParameters: names.filter((n) => !(n in stored)),
      }),
    );
  });
});

async function signatureValid(req: IncomingMessage, body: string): Promise<boolean> {
  const auth = String(req.headers.authorization ?? "");
  const signed = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(";") ?? [];
  const date = String(req.headers["x-amz-date"]);
  const headers: Record<string, string> = {};
  for (const h of signed) headers[h] = String(req.headers[h]);
  const signer = new SignatureV4({ service: "ssm", region: "eu-west-1", credentials: creds, sha256: Sha256, applyChecksum: false });
  const [host, port] = String(req.headers.host).split(":");
  const again = await signer.sign(
    { method: req.method!, protocol: "http:", hostname: host!, port: Number(port), path: req.url!, headers, body, query: {} },
    { signingDate: new Date(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z")) },
  );
  return auth.length > 0 && again.headers.authorization === auth && req.headers["x-amz-security-token"] === creds.sessionToken;
}

const saved = { ...process.env };
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_SSM: url,
  });
});
afterAll(async () => {
  process.env = saved;
  await new Promise<void>((r) => server.close(() => r()));
});

test("GetParameters is signed as SSM expects, in batches of 10, with values and missing names", async () => {
  const names = ["/sst/app/stage/Secret/JWT_SECRET/value", ...Array.from({ length: 11 }, (_, i) => `/sst/app/stage/Secret/N${i}/value`)];
  const out = await ssmGetParameters(names);
  expect(out.values).toEqual({ "/sst/app/stage/Secret/JWT_SECRET/value": "s3cret" });
  expect(out.missing).toEqual(names.slice(1));
  expect(seen.map((s) => [s.target, s.valid, s.names.length])).toEqual([
    ["AmazonSSM.GetParameters", true, 10],
    ["AmazonSSM.GetParameters", true, 2],
  ]);
});

test("throttling and 5xx answers are retried; a client error is not", async () => {
  const { getParametersOnce } = await import("../src/ssm");
  const answers: [number, unknown][] = [];
  let calls = 0;
  const flaky = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      const [status, body] = answers.shift() ?? [200, { Parameters: [{ Name: "/p", Value: "v" }], InvalidParameters: [] }];
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => flaky.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
  try {
    answers.push([400, { __type: "ThrottlingException", message: "Rate exceeded" }], [503, {}]);
    const out = await getParametersOnce(endpoint, "eu-west-1", creds, ["/p"]);
    expect(out.Parameters).toEqual([{ Name: "/p", Value: "v" }]);
    expect(calls).toBe(3);

    calls = 0;
    answers.push([400, { __type: "AccessDeniedException", message: "not allowed" }]);
    await expect(getParametersOnce(endpoint, "eu-west-1", creds, ["/p"])).rejects.toThrow(/400 AccessDeniedException not allowed/);
    expect(calls).toBe(1);
  } finally {
    await new Promise<void>((r) => flaky.close(() => r()));
  }
});
