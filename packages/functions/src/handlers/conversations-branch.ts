import { BranchRequest, BranchResponse, IdParams, switchBranch } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-branch",
  {
    summary: "Make the branch through a message current: listing and the next send follow it (to its most recent leaf)",
    params: IdParams,
    body: BranchRequest,
    response: BranchResponse,
  },
  ({ deps, userId, params, body }) => switchBranch(deps.store.forUser(userId), params.id, body.message_id),
);
