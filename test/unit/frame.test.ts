/**
 * `top` frames (src/observe/frame.ts), with no terminal: what a frame shows for a RatesView, cut to
 * the width and height, scrolled, with and without colour.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRate, maxScroll, renderFrame, sparkline, type FrameOptions } from '../../src/observe/frame.js';
import { emptyRow, type RatesView, type ServerRates, type TubeRates } from '../../src/observe/rates.js';

const AT = new Date(2026, 0, 2, 3, 4, 5).getTime();
const PLAIN: FrameOptions = { width: 200, height: 50, scroll: 0, color: false };

function server(given: Partial<ServerRates> = {}): ServerRates {
  return {
    url: 'beanstalk://127.0.0.1:11300',
    up: true,
    putsPerSecond: 0,
    reservesPerSecond: 0,
    deletesPerSecond: 0,
    producers: 0,
    workers: 0,
    waiting: 0,
    connections: 0,
    ...given,
  };
}

function tube(name: string, given: Partial<TubeRates> = {}): TubeRates {
  return { ...emptyRow(name), servers: ['beanstalk://127.0.0.1:11300'], ...given };
}

function view(servers: ServerRates[], tubes: TubeRates[]): RatesView {
  return { at: AT, servers, tubes };
}

/** The columns of a table row, split on runs of two or more spaces. */
function columns(line: string | undefined): string[] {
  return (line ?? '').trim().split(/ {2,}/);
}

test('a frame: title, a line per server, then the tube table with every count and rate', () => {
  const lines = renderFrame(
    view(
      [
        server({ putsPerSecond: 12.5, reservesPerSecond: 3, deletesPerSecond: 2, producers: 1, workers: 4, waiting: 2, connections: 6 }),
        server({ url: 'beanstalk://10.0.0.2:11300', up: false, error: 'connect ECONNREFUSED 10.0.0.2:11300' }),
      ],
      [
        tube('emails', { ready: 120, reserved: 4, delayed: 3, buried: 2, urgent: 1, waiting: 5, putsPerSecond: 12.5, deletesPerSecond: 2, history: [0, 1, 2, 4, 8] }),
        tube('default', { pausedSecondsLeft: 30 }),
      ],
    ),
    PLAIN,
  );
  assert.equal(lines[0], 'beanline top  03:04:05  1/2 servers up  2 tubes');
  assert.equal(lines[1], '● up    127.0.0.1:11300  puts/s 13  reserves/s 3.0  deletes/s 2.0  connections 6: producers 1, workers 4, waiting 2');
  assert.equal(lines[2], '○ down  10.0.0.2:11300   connect ECONNREFUSED 10.0.0.2:11300');
  assert.equal(lines[3], '');
  assert.deepEqual(columns(lines[4]), ['tube', 'ready', 'reserved', 'delayed', 'buried', 'urgent', 'waiting', 'paused', 'puts/s', 'deletes/s', 'puts/s history']);
  assert.deepEqual(columns(lines[5]), ['emails', '120', '4', '3', '2', '1', '5', '-', '13', '2.0', '▁▃▄▅█']);
  assert.deepEqual(columns(lines[6]), ['default', '0', '0', '0', '0', '0', '0', '30s', '0', '0']);
  assert.equal(lines.length, 7);
  assert.ok(!lines.join('\n').includes('\u001b'), 'no escape codes without colour');
});

test('numbers are right-aligned under their headings', () => {
  const lines = renderFrame(view([server()], [tube('a', { ready: 7 }), tube('longer-name', { ready: 12345 })]), PLAIN);
  const heading = lines[3] ?? '';
  const end = heading.indexOf('ready') + 'ready'.length;
  for (const row of lines.slice(4)) assert.match(row.slice(0, end), /\d$/, row);
});

test('every line is cut to the width; the sparkline keeps the newest samples in the room left', () => {
  const history = Array.from({ length: 60 }, (_, i) => (i < 55 ? 0 : 10));
  const frame = view([server({ url: 'beanstalk://a-rather-long-host-name.example.com:11300' })], [tube('emails', { history })]);
  const wide = renderFrame(frame, { ...PLAIN, width: 200 });
  assert.ok((wide[4] ?? '').endsWith(`${'▁'.repeat(55)}${'█'.repeat(5)}`), wide[4]);
  const tableWidth = (wide[3] ?? '').indexOf('puts/s history');
  const narrow = renderFrame(frame, { ...PLAIN, width: tableWidth + 6 });
  for (const line of narrow) assert.ok([...line].length <= tableWidth + 6, line);
  assert.ok((narrow[4] ?? '').endsWith(' ▁█████'), `the last 6 samples fit: ${narrow[4]}`);
  const tiny = renderFrame(frame, { ...PLAIN, width: 10 });
  assert.deepEqual(tiny.slice(0, 2), ['beanline t', '● up    a-']);
});

test('long tube names are cut with an ellipsis', () => {
  const lines = renderFrame(view([server()], [tube('x'.repeat(60))]), PLAIN);
  assert.equal(columns(lines[4])[0], `${'x'.repeat(31)}…`);
});

test('cut to the height, scrolled by rows of the table, the title saying which rows show', () => {
  const tubes = Array.from({ length: 10 }, (_, i) => tube(`t${i}`));
  const frame = view([server()], tubes);
  // 9 rows: title, server, blank, headings, and 5 tubes.
  assert.equal(maxScroll(frame, 9), 5);
  const top = renderFrame(frame, { ...PLAIN, height: 9 });
  assert.equal(top.length, 9);
  assert.match(top[0] ?? '', /10 tubes \(rows 1-5\)$/);
  assert.deepEqual(top.slice(4).map((line) => columns(line)[0]), ['t0', 't1', 't2', 't3', 't4']);
  const scrolled = renderFrame(frame, { ...PLAIN, height: 9, scroll: 2 });
  assert.match(scrolled[0] ?? '', /\(rows 3-7\)$/);
  assert.deepEqual(scrolled.slice(4).map((line) => columns(line)[0]), ['t2', 't3', 't4', 't5', 't6']);
  const past = renderFrame(frame, { ...PLAIN, height: 9, scroll: 99 });
  assert.deepEqual(past.slice(4).map((line) => columns(line)[0]), ['t5', 't6', 't7', 't8', 't9'], 'scroll is clamped');
  assert.deepEqual(renderFrame(frame, { ...PLAIN, height: 9, scroll: -3 }), top);
  assert.equal(maxScroll(frame, 50), 0);
  assert.deepEqual(renderFrame(frame, { ...PLAIN, height: 2 }).length, 2);
  assert.deepEqual(renderFrame(frame, { ...PLAIN, height: 0 }), []);
});

test('the keys are named only when asked', () => {
  const frame = view([server()], []);
  assert.match(renderFrame(frame, { ...PLAIN, keys: true })[0] ?? '', /q quit {2}↑↓ PgUp PgDn scroll$/);
  assert.doesNotMatch(renderFrame(frame, PLAIN)[0] ?? '', /quit/);
});

test('no tubes, and no server up, are said so', () => {
  assert.equal(renderFrame(view([server()], []), PLAIN)[4], 'no tubes');
  const down = renderFrame(view([server({ up: false, error: 'refused' })], []), PLAIN);
  assert.equal(down[0], 'beanline top  03:04:05  0/1 servers up  0 tubes');
  assert.equal(down.at(-1), 'no tubes: no server is answering');
});

test('with colour: the same text once the escape codes are taken out, and codes never cut in half', () => {
  const frame = view([server(), server({ url: 'beanstalk://b:1', up: false, error: 'refused' })], [tube('emails', { buried: 3, pausedSecondsLeft: 4, history: [1, 2, 3, 4, 5] })]);
  const strip = (line: string): string => line.replace(/\u001b\[\d+m/g, '');
  for (const width of [200, 30, 7]) {
    const plain = renderFrame(frame, { ...PLAIN, width });
    const colored = renderFrame(frame, { ...PLAIN, width, color: true });
    assert.ok(colored.some((line) => line.includes('\u001b[')), 'colour codes present');
    assert.deepEqual(colored.map(strip), plain);
    for (const line of colored) assert.doesNotMatch(strip(line), /\u001b/, 'no partial escape code');
  }
  const colored = renderFrame(frame, { ...PLAIN, color: true });
  assert.ok(colored[2]?.includes('\u001b[31m○ down'), 'a down server in red');
});

test('rates are formatted short', () => {
  assert.deepEqual([0, 0.04, 0.5, 9.96, 10, 123.4, 9999, 12_345].map(formatRate), ['0', '0.0', '0.5', '10.0', '10', '123', '9999', '12.3k']);
});

test('a sparkline scales to its largest sample; zero is the lowest bar and only zero', () => {
  assert.equal(sparkline([]), '');
  assert.equal(sparkline([0, 0, 0]), '▁▁▁');
  assert.equal(sparkline([0, 0.01, 50, 100]), '▁▂▅█');
  assert.equal(sparkline([7, 7]), '██');
});
