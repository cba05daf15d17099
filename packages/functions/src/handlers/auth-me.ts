import { me, User } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler("auth-me", { summary: "The signed-in user", response: User }, ({ deps, userId }) => me(deps.store, userId));
