import { ProtocolError } from '../errors.js';

/**
 * The fields beanstalkd 1.12 reports, with how to read each. The public types are derived from these
 * tables, so a field is listed once. Values are not YAML-safe (`os: #1 SMP ...`), so the flat format is
 * split by hand and only fields known to be numbers or booleans are converted.
 */
/** `signed`: a number that may be below zero (beanstalkd prints time-left as a signed count). */
type FieldKind = 'number' | 'signed' | 'string' | 'boolean';

const SERVER_FIELDS = {
  'current-jobs-urgent': 'number',
  'current-jobs-ready': 'number',
  'current-jobs-reserved': 'number',
  'current-jobs-delayed': 'number',
  'current-jobs-buried': 'number',
  'cmd-put': 'number',
  'cmd-peek': 'number',
  'cmd-peek-ready': 'number',
  'cmd-peek-delayed': 'number',
  'cmd-peek-buried': 'number',
  'cmd-reserve': 'number',
  'cmd-reserve-with-timeout': 'number',
  'cmd-delete': 'number',
  'cmd-release': 'number',
  'cmd-use': 'number',
  'cmd-watch': 'number',
  'cmd-ignore': 'number',
  'cmd-bury': 'number',
  'cmd-kick': 'number',
  'cmd-touch': 'number',
  'cmd-stats': 'number',
  'cmd-stats-job': 'number',
  'cmd-stats-tube': 'number',
  'cmd-list-tubes': 'number',
  'cmd-list-tube-used': 'number',
  'cmd-list-tubes-watched': 'number',
  'cmd-pause-tube': 'number',
  'job-timeouts': 'number',
  'total-jobs': 'number',
  'max-job-size': 'number',
  'current-tubes': 'number',
  'current-connections': 'number',
  'current-producers': 'number',
  'current-workers': 'number',
  'current-waiting': 'number',
  'total-connections': 'number',
  pid: 'number',
  version: 'string',
  'rusage-utime': 'number',
  'rusage-stime': 'number',
  uptime: 'number',
  'binlog-oldest-index': 'number',
  'binlog-current-index': 'number',
  'binlog-records-migrated': 'number',
  'binlog-records-written': 'number',
  'binlog-max-size': 'number',
  draining: 'boolean',
  id: 'string',
  hostname: 'string',
  os: 'string',
  platform: 'string',
} as const satisfies Record<string, FieldKind>;

const JOB_FIELDS = {
  id: 'number',
  tube: 'string',
  state: 'string',
  pri: 'number',
  age: 'number',
  delay: 'number',
  ttr: 'number',
  // Negative for a reserved job whose TTR passed without the server taking it back (a beanstalkd
  // bug seen on 1.12 while the holder's connection stays open and silent).
  'time-left': 'signed',
  file: 'number',
  reserves: 'number',
  timeouts: 'number',
  releases: 'number',
  buries: 'number',
  kicks: 'number',
} as const satisfies Record<string, FieldKind>;

const TUBE_FIELDS = {
  name: 'string',
  'current-jobs-urgent': 'number',
  'current-jobs-ready': 'number',
  'current-jobs-reserved': 'number',
  'current-jobs-delayed': 'number',
  'current-jobs-buried': 'number',
  'total-jobs': 'number',
  'current-using': 'number',
  'current-watching': 'number',
  'current-waiting': 'number',
  'cmd-delete': 'number',
  'cmd-pause-tube': 'number',
  pause: 'number',
  'pause-time-left': 'number',
} as const satisfies Record<string, FieldKind>;

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type ValueOf<K extends FieldKind> = K extends 'number' | 'signed' ? number : K extends 'boolean' ? boolean : string;
type StatsOf<Fields extends Record<string, FieldKind>> = {
  readonly [K in keyof Fields & string as CamelCase<K>]: ValueOf<Fields[K]>;
};

/** `stats`: the whole server. */
export type ServerStats = StatsOf<typeof SERVER_FIELDS>;
/** `stats-job`: one job. `state` is one of ready, delayed, reserved, buried. */
export type JobStats = Omit<StatsOf<typeof JOB_FIELDS>, 'state'> & { readonly state: JobState };
/** `stats-tube`: one tube. */
export type TubeStats = StatsOf<typeof TUBE_FIELDS>;
export type JobState = 'ready' | 'delayed' | 'reserved' | 'buried';

function camelCase(key: string): string {
  return key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The known fields' names, converted once: a job scan reads a stats-job reply per id. */
const CAMEL_KEYS: ReadonlyMap<string, string> = new Map(
  [SERVER_FIELDS, JOB_FIELDS, TUBE_FIELDS].flatMap((fields) => Object.keys(fields).map((key) => [key, camelCase(key)] as const)),
);

function parseFlat(body: Buffer, fields: Record<string, FieldKind>, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of body.toString('utf8').split('\n')) {
    if (line === '' || line === '---') continue;
    const colon = line.indexOf(': ');
    if (colon <= 0) throw new ProtocolError(`${what}: cannot read stats line ${JSON.stringify(line)}`);
    const key = line.slice(0, colon);
    const raw = line.slice(colon + 2);
    const kind = Object.hasOwn(fields, key) ? fields[key] : undefined;
    // Unknown fields (from a newer server) are kept, unconverted, rather than dropped.
    out[CAMEL_KEYS.get(key) ?? camelCase(key)] = kind === undefined ? raw : convert(raw, kind, key, what);
  }
  return out;
}

// Plain decimals only: Number() would also take ' ', '0x10' and '1e3'.
const DECIMAL = /^\d+(\.\d+)?$/;
const SIGNED = /^-?\d+$/;

function convert(raw: string, kind: FieldKind, key: string, what: string): number | string | boolean {
  if (kind === 'string') return raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (kind === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
  } else if (kind === 'signed' ? SIGNED.test(raw) : DECIMAL.test(raw)) {
    return Number(raw);
  }
  throw new ProtocolError(`${what}: field ${key} should be a ${kind}, got ${JSON.stringify(raw)}`);
}

export function parseServerStats(body: Buffer): ServerStats {
  return parseFlat(body, SERVER_FIELDS, 'stats') as unknown as ServerStats;
}

export function parseJobStats(body: Buffer): JobStats {
  return parseFlat(body, JOB_FIELDS, 'stats-job') as unknown as JobStats;
}

export function parseTubeStats(body: Buffer): TubeStats {
  return parseFlat(body, TUBE_FIELDS, 'stats-tube') as unknown as TubeStats;
}

/** A YAML list of tube names: `---` then `- name` lines. Tube names never need quoting. */
export function parseTubeList(body: Buffer): string[] {
  const tubes: string[] = [];
  for (const line of body.toString('latin1').split('\n')) {
    if (line === '' || line === '---') continue;
    if (!line.startsWith('- ')) throw new ProtocolError(`list of tubes: cannot read line ${JSON.stringify(line)}`);
    tubes.push(line.slice(2));
  }
  return tubes;
}
