/**
 * With several servers, how many jobs a worker runs at once and how many reserves it keeps waiting
 * on each server. Every server needs a reserve waiting whenever there is room, or a job put there
 * would wait for a slot on another server to come round; but each reserve beyond the room left can
 * bring a job the worker must hand back. So a server gets at most as many waiting reserves as there
 * are free places: at saturation a finished job lets one reserve wait on each server, and all but
 * one of the jobs they may bring at once go back (priority kept).
 */
export class Capacity {
  private running = 0;
  private readonly reserving = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Takes a place for a job just reserved; false when every place is taken. */
  tryAcquire(): boolean {
    if (this.running >= this.limit) return false;
    this.running += 1;
    return true;
  }

  release(): void {
    this.running -= 1;
    this.wake();
  }

  mayReserve(server: string): boolean {
    return (this.reserving.get(server) ?? 0) < this.limit - this.running;
  }

  /** Resolves once a reserve on `server` may go out, or `signal` aborts. */
  async untilMayReserve(server: string, signal: AbortSignal): Promise<void> {
    while (!this.mayReserve(server) && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  beginReserve(server: string): void {
    this.reserving.set(server, (this.reserving.get(server) ?? 0) + 1);
  }

  endReserve(server: string): void {
    this.reserving.set(server, (this.reserving.get(server) ?? 1) - 1);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
