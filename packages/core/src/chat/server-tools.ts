// Which of the provider's built-in tools (server_tools) a send may ask for: only those the server
// allows (SERVER_TOOLS) and the answering model can use (models.ts). Refused (422) before anything is
// stored, naming the field, rather than by the provider once the stream has begun.
import { AppError } from "../errors";
import { serverToolsFor } from "../models";
import type { ServerToolName } from "../schemas";

export function checkServerTools(asked: readonly ServerToolName[] | undefined, model: string, allowed: readonly ServerToolName[]): void {
  if (!asked?.length) return;
  const off = asked.filter((t) => !allowed.includes(t));
  if (off.length)
    throw new AppError("validation_error", `server_tools names ${off.join(", ")}, which this server has turned off`, {
      fields: [{ path: "body.server_tools", message: allowed.length ? `may only name: ${allowed.join(", ")}` : "server tools are off on this server (SERVER_TOOLS)" }],
    });
  const usable = serverToolsFor(model, allowed);
  const missing = asked.filter((t) => !usable.includes(t));
  if (missing.length)
    throw new AppError("validation_error", `server_tools names ${missing.join(", ")}, which model "${model}" cannot use`, {
      fields: [
        {
          path: "body.server_tools",
          message: usable.length ? `${model} takes only: ${usable.join(", ")}` : `not supported by ${model}; GET /api/v1/models lists each model's server_tools`,
        },
      ],
    });
}
