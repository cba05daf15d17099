export * from "./common";
export * from "./auth";
export * from "./conversations";
export * from "./stream";
export * from "./stream-events";
export * from "./tools";
export * from "./server-tools";
export * from "./usage";
