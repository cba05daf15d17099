import { User } from "@conversation-api/core";
import { me } from "@conversation-api/core/accounts";
import { jsonHandler } from "../http";

export const handler = jsonHandler("auth-me", { summary: "The signed-in user", response: User }, ({ deps, userId }) => me(deps.store, userId));
