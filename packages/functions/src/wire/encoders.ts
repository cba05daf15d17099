// Every wire format's event encoder, by name: one place the encoding bench (and anything else that
// compares formats) finds them. A factory per format, since an encoder may keep per-reply state
// (a chunk id, a part id, which block is open).
import type { ReplyEvent } from "@conversation-api/core";
import { anthropicEncoder } from "./anthropic/encode";
import { openaiEncoder } from "./openai/encode";
import { encodeSse } from "./sse";
import { uiStreamEncoder } from "./ui-stream/encode";

export type EncoderFactory = () => (event: ReplyEvent) => string;

export const encoders: Record<string, EncoderFactory> = {
  native: () => encodeSse,
  anthropic: anthropicEncoder,
  // As a client that asked for usage (stream_options.include_usage) gets it.
  openai: () => openaiEncoder({ includeUsage: true }),
  "ai-sdk-ui": uiStreamEncoder,
};
