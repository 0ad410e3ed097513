/**
 * One `top` frame as text lines, from a RatesView: a title, a line per server, then the tube table,
 * cut to the terminal's width and height. Pure, so `top --once` and the live screen print the same
 * thing and a test can check a frame without a terminal.
 */
import picocolors from 'picocolors';
import type { Formatter } from 'picocolors/types.js';
import type { RatesView, ServerRates, TubeRates } from './rates.js';

export interface FrameOptions {
  /** Columns: every line is cut to this many characters. */
  width: number;
  /** Rows: at most this many lines. */
  height: number;
  /** Tube rows scrolled past (clamped to what there is). */
  scroll: number;
  /** ANSI colours; off for pipes and with NO_COLOR. */
  color: boolean;
  /** Name the keys in the title (the live screen does, `--once` does not). */
  keys?: boolean;
}

/** A run of text drawn one way; lines are cut by segments so that colour codes are never cut in half. */
interface Segment {
  readonly text: string;
  readonly paint?: Formatter | undefined;
}
type Line = readonly Segment[];

const SPARKS = '▁▂▃▄▅▆▇█';
const HEADINGS = ['tube', 'ready', 'reserved', 'delayed', 'buried', 'urgent', 'waiting', 'paused', 'puts/s', 'deletes/s'] as const;
const NAME_MAX = 32;
const GAP = '  ';
/** Narrower than this, the sparkline says too little to be worth its column. */
const SPARK_MIN = 4;
/** Rows above the tube table that are not servers: the title, a blank line, the table's headings. */
const CHROME_ROWS = 3;

export function renderFrame(view: RatesView, options: FrameOptions): string[] {
  const colors = picocolors.createColors(options.color);
  const width = Math.max(0, Math.floor(options.width));
  const height = Math.max(0, Math.floor(options.height));
  const visible = tubeRowsVisible(view, height);
  const scroll = Math.min(Math.max(0, Math.floor(options.scroll)), maxScroll(view, height));
  const table = tubeTable(view.tubes, width, colors);
  const lines: Line[] = [
    title(view, scroll, visible, options.keys === true, colors),
    ...serverLines(view.servers, colors),
    [],
    table.headings,
    ...(view.tubes.length === 0 ? [[{ text: noTubes(view), paint: colors.dim }]] : table.rows.slice(scroll, scroll + visible)),
  ];
  return lines.slice(0, height).map((line) => draw(line, width));
}

/** The furthest the tube table can scroll at this height: the caller clamps its own count with it. */
export function maxScroll(view: RatesView, height: number): number {
  return Math.max(0, view.tubes.length - tubeRowsVisible(view, height));
}

function tubeRowsVisible(view: RatesView, height: number): number {
  return Math.max(0, Math.floor(height) - CHROME_ROWS - view.servers.length);
}

/** Rates: whole numbers from 10, one decimal below, thousands as `k`. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 10) return perSecond.toFixed(1);
  if (perSecond < 10_000) return String(Math.round(perSecond));
  return `${(perSecond / 1000).toFixed(1)}k`;
}

/** One character per sample, scaled to the largest: zero is the lowest bar, anything above zero at least the second. */
export function sparkline(samples: readonly number[]): string {
  const top = Math.max(0, ...samples);
  return samples
    .map((value) => {
      if (value <= 0 || top === 0) return SPARKS[0];
      const level = 1 + Math.round((value / top) * (SPARKS.length - 2));
      return SPARKS[Math.min(level, SPARKS.length - 1)];
    })
    .join('');
}

function title(view: RatesView, scroll: number, visible: number, keys: boolean, colors: ReturnType<typeof picocolors.createColors>): Line {
  const upCount = view.servers.filter((server) => server.up).length;
  const count = view.tubes.length;
  const time = view.at === 0 ? '--:--:--' : new Date(view.at).toTimeString().slice(0, 8);
  const shown = count > visible ? ` (rows ${Math.min(count, scroll + 1)}-${Math.min(count, scroll + visible)})` : '';
  const segments: Segment[] = [
    { text: 'beanline top', paint: colors.bold },
    { text: `  ${time}  ${upCount}/${view.servers.length} servers up  ${count} ${count === 1 ? 'tube' : 'tubes'}${shown}` },
  ];
  if (keys) segments.push({ text: '  q quit  ↑↓ PgUp PgDn scroll', paint: colors.dim });
  return segments;
}

function serverLines(servers: readonly ServerRates[], colors: ReturnType<typeof picocolors.createColors>): Line[] {
  const urlWidth = Math.max(0, ...servers.map((server) => shortUrl(server.url).length));
  return servers.map((server) => {
    const url = { text: `  ${shortUrl(server.url).padEnd(urlWidth)}  ` };
    if (!server.up) return [{ text: '○ down', paint: colors.red }, url, { text: server.error ?? 'not answering', paint: colors.red }];
    return [
      { text: '● up  ', paint: colors.green },
      url,
      {
        // Rates first: a narrow terminal cuts from the right, and they matter most.
        text:
          `puts/s ${formatRate(server.putsPerSecond)}  reserves/s ${formatRate(server.reservesPerSecond)}` +
          `  deletes/s ${formatRate(server.deletesPerSecond)}` +
          `  connections ${server.connections}: producers ${server.producers}, workers ${server.workers}, waiting ${server.waiting}`,
      },
    ];
  });
}

/** host:port for plain beanstalk://, the room going to the numbers; beanstalks:// (TLS) is kept whole. */
function shortUrl(url: string): string {
  return url.startsWith('beanstalk://') ? url.slice('beanstalk://'.length) : url;
}

function noTubes(view: RatesView): string {
  return view.servers.some((server) => server.up) ? 'no tubes' : 'no tubes: no server is answering';
}

function cells(tube: TubeRates): string[] {
  return [
    tube.name,
    String(tube.ready),
    String(tube.reserved),
    String(tube.delayed),
    String(tube.buried),
    String(tube.urgent),
    String(tube.waiting),
    tube.pausedSecondsLeft > 0 ? `${tube.pausedSecondsLeft}s` : '-',
    formatRate(tube.putsPerSecond),
    formatRate(tube.deletesPerSecond),
  ];
}

/**
 * Column widths come from every tube, not just the rows in view, so that scrolling does not make
 * the columns jump. The sparkline takes what width is left, showing the newest samples.
 */
function tubeTable(tubes: readonly TubeRates[], width: number, colors: ReturnType<typeof picocolors.createColors>): { headings: Line; rows: Line[] } {
  const all = tubes.map(cells);
  const widths = HEADINGS.map((heading, column) => Math.max(heading.length, ...all.map((row) => (row[column] ?? '').length)));
  widths[0] = Math.min(widths[0] ?? 0, NAME_MAX);
  const used = widths.reduce((sum, one) => sum + one, 0) + GAP.length * (widths.length - 1);
  const longest = Math.max(0, ...tubes.map((tube) => tube.history.length));
  const sparkWidth = Math.min(longest, width - used - GAP.length);
  const withSpark = sparkWidth >= SPARK_MIN;
  const pad = (text: string, column: number): string => {
    const size = widths[column] ?? 0;
    if (column > 0) return text.padStart(size);
    return text.length > size ? `${text.slice(0, size - 1)}…` : text.padEnd(size);
  };
  const headingText = HEADINGS.map(pad).join(GAP) + (withSpark ? `${GAP}puts/s history` : '');
  const rows = tubes.map((tube, index): Line => {
    const row = all[index] ?? [];
    const segments: Segment[] = row.map((text, column) => ({
      text: (column === 0 ? '' : GAP) + pad(text, column),
      paint: column === 4 && tube.buried > 0 ? colors.red : column === 7 && tube.pausedSecondsLeft > 0 ? colors.yellow : undefined,
    }));
    if (withSpark) segments.push({ text: `${GAP}${sparkline(tube.history.slice(-sparkWidth)).padStart(sparkWidth)}`, paint: colors.cyan });
    return segments;
  });
  return { headings: [{ text: headingText, paint: colors.bold }], rows };
}

/** The line cut to `width` characters, then painted; trailing spaces dropped. */
function draw(line: Line, width: number): string {
  let left = width;
  const out: Segment[] = [];
  for (const segment of line) {
    if (left <= 0) break;
    const text = [...segment.text].slice(0, left).join('');
    left -= [...text].length;
    out.push({ text, paint: segment.paint });
  }
  // Trailing blanks would only pad the line; they are dropped before painting so a test reads plain text.
  for (let last = out.at(-1); last !== undefined; last = out.at(-1)) {
    const text = last.text.trimEnd();
    if (text !== '') {
      out[out.length - 1] = { text, paint: last.paint };
      break;
    }
    out.pop();
  }
  return out.map((segment) => (segment.paint === undefined || segment.text === '' ? segment.text : segment.paint(segment.text))).join('');
}
