/** A wait of a set time that another part of the scheduler can cut short (to stop, or on a lost lease). */
export class Sleeper {
  private waking: (() => void) | null = null;
  private woken = false;

  /** Resolves after `ms`, or at once if `wake()` was called since the last sleep. */
  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.waking = null;
        resolve();
      }
      this.waking = done;
    });
  }

  /** Ends the current sleep, or the next one before it starts. */
  wake(): void {
    if (this.waking === null) this.woken = true;
    else this.waking();
  }
}
