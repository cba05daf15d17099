export { createSupabaseStore, type SupabaseStoreOptions } from "./store";
