/**
 * The overview's live numbers: while at least one page listens, one snapshot of every server a
 * second (one pipelined batch per server), fed to the same Rates as `beanline top`, and sent to
 * every page as a server-sent event. With no page listening, nothing is asked of the servers.
 */
import type { ServerResponse } from 'node:http';
import { Rates, type RatesView } from '../observe/rates.js';
import { startStream } from './http.js';
import type { Servers } from './servers.js';

const INTERVAL_MS = 1_000;
/** Seconds of puts/s history per tube a page gets when it connects. */
const HISTORY_SECONDS = 300;

export class Live {
  private readonly rates = new Rates(HISTORY_SECONDS);
  private readonly listeners = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private fresh = false;
  /** Pages that have had the history once. */
  private readonly sent = new WeakSet<ServerResponse>();

  constructor(private readonly servers: Servers) {}

  /** The latest view; takes a snapshot first when the loop is not running (no page listens). */
  async view(): Promise<RatesView> {
    if (!this.fresh) await this.tick();
    return this.rates.view();
  }

  /** Streams the view to `res` once a second until the page goes away. */
  subscribe(res: ServerResponse): void {
    startStream(res, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // A proxy that buffers would hold the events back (nginx reads this header).
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.listeners.add(res);
    res.on('close', () => {
      this.listeners.delete(res);
      if (this.listeners.size === 0) this.stop();
    });
    // The new page gets the history once; later events leave it out to stay small.
    if (this.rates.view().at !== 0) {
      this.sent.add(res);
      res.write(event(this.rates.view(), true));
    }
    this.start();
  }

  close(): void {
    this.stop();
    for (const res of this.listeners) res.end();
    this.listeners.clear();
  }

  private start(): void {
    if (this.timer !== null) return;
    this.fresh = true;
    this.timer = setInterval(() => this.update(), INTERVAL_MS);
    this.update();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.fresh = false;
  }

  /** One snapshot; a tick that finds the last one still running waits for it instead of piling up. */
  private tick(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.servers
      .snapshot()
      .then((snapshot) => this.rates.add(snapshot))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** A tick, then its view to every page; a failed tick is told to the pages, which keep the last numbers. */
  private update(): void {
    this.tick().then(
      () => this.broadcast(),
      (error: unknown) => {
        const message = JSON.stringify({ error: error instanceof Error ? error.message : String(error) });
        for (const res of this.listeners) res.write(`event: failure\ndata: ${message}\n\n`);
      },
    );
  }

  private broadcast(): void {
    const view = this.rates.view();
    let withHistory: string | undefined;
    let without: string | undefined;
    for (const res of this.listeners) {
      const first = !this.sent.has(res);
      this.sent.add(res);
      res.write(first ? (withHistory ??= event(view, true)) : (without ??= event(view, false)));
    }
  }
}

function event(view: RatesView, withHistory: boolean): string {
  const tubes = withHistory ? view.tubes : view.tubes.map(({ history: _history, ...tube }) => tube);
  return `data: ${JSON.stringify({ ...view, tubes })}\n\n`;
}
