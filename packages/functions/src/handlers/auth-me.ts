import { me } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: true }, ({ deps, userId }) => me(deps.store, userId));
