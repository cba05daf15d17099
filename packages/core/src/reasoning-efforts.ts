// The `reasoning_effort` values a request may name (models.ts says which each model takes). A module of
// its own, importing nothing, because the request schemas and models.ts both need it and models.ts
// reads the schemas' types.
export const REASONING_EFFORTS = ["none", "low", "medium", "high"] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];
