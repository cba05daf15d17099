/** A turn of the event loop: what is queued for the socket goes out first. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
