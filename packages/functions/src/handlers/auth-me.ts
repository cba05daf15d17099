import { me, User } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "The signed-in user", auth: true, response: User }, ({ deps, userId }) => me(deps.store, userId));
