/**
 * The live `top`: a look at every server each interval, a frame drawn from the rates, keys that
 * scroll, until q, Ctrl-C or a signal. The terminal is given back however it ends.
 */
import { maxScroll, renderFrame } from '../observe/frame.js';
import { Rates } from '../observe/rates.js';
import { LiveScreen, type Key } from './top-screen.js';
import type { ServerSet } from '../observe/server-set.js';
import { topServers } from './top-servers.js';

/** A sparkline covers this much time whatever the interval. */
const HISTORY_SECONDS = 60;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class LiveTop {
  private readonly servers: ServerSet;
  private readonly rates: Rates;
  private readonly screen = new LiveScreen(process.stdout, process.stdin);
  private readonly intervalMs: number;
  private readonly color: boolean;
  private scroll = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private finish: (error?: unknown) => void = () => undefined;

  constructor(urls: readonly string[], intervalMs: number, color: boolean) {
    this.servers = topServers(urls, true);
    this.rates = new Rates(Math.max(1, Math.round((HISTORY_SECONDS * 1000) / intervalMs)));
    this.intervalMs = intervalMs;
    this.color = color;
  }

  /** Resolves when the operator quits; rejects if a refresh fails unexpectedly (after giving the terminal back). */
  run(): Promise<void> {
    const ended = new Promise<void>((resolve, reject) => {
      this.finish = (error) => (error === undefined ? resolve() : reject(error));
    });
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
    this.screen.open({ key: (key) => this.onKey(key), resize: () => this.redraw() });
    void this.begin().catch((error: unknown) => this.stop(error));
    return ended;
  }

  private async begin(): Promise<void> {
    // The first frame waits for the first connects (a local server answers at once), but not for long.
    await Promise.race([this.servers.connectAll(), new Promise((resolve) => (this.timer = setTimeout(resolve, this.intervalMs)))]);
    clearTimeout(this.timer);
    if (!this.stopped) await this.tick();
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    // A server slower than a refresh (or a second) to answer is shown as down rather than freezing the screen.
    const snapshot = await this.servers.snapshot(Math.max(1000, this.intervalMs));
    if (this.stopped) return;
    this.rates.add(snapshot);
    this.redraw();
    const next = (): void => void this.tick().catch((error: unknown) => this.stop(error));
    this.timer = setTimeout(next, Math.max(0, started + this.intervalMs - Date.now()));
  }

  private redraw(): void {
    const view = this.rates.view();
    // Before the first look there is nothing true to show ("0 servers up" would not be).
    if (view.at === 0) return;
    const { width, height } = this.screen.size();
    this.scroll = Math.min(this.scroll, maxScroll(view, height));
    this.screen.draw(renderFrame(view, { width, height, scroll: this.scroll, color: this.color, keys: true }));
  }

  private onKey(key: Key): void {
    if (key === 'quit') return this.stop();
    const { height } = this.screen.size();
    // A page keeps one row of the last in view.
    const page = Math.max(1, height - 5);
    const moves: Record<Exclude<Key, 'quit'>, number> = { up: -1, down: 1, pageUp: -page, pageDown: page, home: -Infinity, end: Infinity };
    this.scroll = Math.max(0, Math.min(maxScroll(this.rates.view(), height), this.scroll + moves[key]));
    this.redraw();
  }

  private readonly onSignal = (): void => this.stop();

  private stop(error?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
    this.screen.close();
    this.servers.close();
    this.finish(error);
  }
}
