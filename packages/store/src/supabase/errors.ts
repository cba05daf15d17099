// A failed PostgREST request. PostgREST answers a failed statement with the SQLSTATE in `code` and
// PostgreSQL's message (which names a violated constraint) in `message`, so the store maps it exactly
// as it maps a driver's error; what means nothing to the API becomes a 500 with the details logged.
export interface PostgrestFailure {
  code: string;
  message: string;
  details?: string | null;
  hint?: string | null;
}

export class SupabaseRequestError extends Error {
  readonly code: string;
  constructor(fn: string, failure: PostgrestFailure) {
    super(`Supabase ${fn} failed: ${failure.code ? `${failure.code} ` : ""}${failure.message}`);
    this.name = "SupabaseRequestError";
    this.code = failure.code;
  }
}
