export { createSupabaseStore, type SupabaseStoreOptions } from "./store";
export { signUserToken, USER_TOKEN_TTL_SECONDS } from "./token";
