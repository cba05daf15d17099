// Contract hooks for the SQL store: the connection's own role bypasses RLS, like an operator would.
import type { SqlClient } from "../src/index";
import type { ContractHooks } from "./contract";

export function sqlHooks(sql: SqlClient): ContractHooks {
  return {
    async setConversationUpdatedAt(id, timestamptz) {
      await sql.query("update conversations set updated_at = $2::timestamptz where id = $1", [id, timestamptz]);
    },
    async setMessageCreatedAt(id, timestamptz) {
      await sql.query("update messages set created_at = $2::timestamptz where id = $1", [id, timestamptz]);
    },
    async setLedgerTime(reservationId, timestamptz) {
      await sql.query("update usage_ledger set created_at = $2::timestamptz, reserved_at = $2::timestamptz where reservation_id = $1", [
        reservationId,
        timestamptz,
      ]);
    },
    async tokensUsedSince(userId, since) {
      const [row] = await sql.query<{ n: string | number }>(
        "select coalesce(sum(tokens), 0) as n from usage_ledger where user_id = $1 and reserved_at >= $2::timestamptz",
        [userId, since],
      );
      return Number(row!.n);
    },
  };
}
