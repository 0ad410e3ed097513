import type { Client } from '../client.js';

/**
 * Touches a reserved job every half TTR while its handler runs, so a long run is not handed to a
 * second worker. Calls `onLost` once if a touch fails (the server no longer gives us the job).
 * Returns the function that stops it.
 */
export function keepAlive(client: Client, id: number, ttrSeconds: number, onLost: (error: Error) => void): () => void {
  // The server raises a TTR of 0 to 1 second.
  const every = Math.max(1, ttrSeconds) * 500;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(touch, every);
    timer.unref();
  };
  const touch = (): void => {
    client.touch(id).then(
      () => {
        if (!stopped) schedule();
      },
      (error: Error) => {
        if (stopped) return;
        stopped = true;
        onLost(error);
      },
    );
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
