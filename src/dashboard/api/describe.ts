/**
 * A job as the page gets it: JSON data, every string of which the page puts in the DOM as text.
 * Bodies are cut (the page links to the whole body as a download); the view comes from the same
 * describeBody the CLI prints from.
 */
import type { JobStats } from '../../protocol/stats.js';
import { describeBody, hexDump } from '../../observe/body.js';
import type { JobEnvelope } from '../../jobs/envelope.js';

const SHOWN_TEXT_BYTES = 64 * 1024;
const SHOWN_HEX_BYTES = 4 * 1024;
const SUMMARY_CHARS = 120;

export interface JobBodyJson {
  readonly bytes: number;
  readonly kind: 'envelope' | 'text' | 'binary';
  readonly envelope: JobEnvelope | null;
  /** The body decoded as UTF-8 (invalid bytes replaced), cut to the first 64 KiB. */
  readonly text: string;
  /** A hex dump of the first 4 KiB, one line per 16 bytes. */
  readonly hex: string[];
  /** Bytes left out of `text`. */
  readonly cutBytes: number;
}

export function bodyJson(body: Buffer): JobBodyJson {
  const view = describeBody(body, { maxTextBytes: SHOWN_TEXT_BYTES, maxHexBytes: SHOWN_HEX_BYTES });
  const shown = body.subarray(0, SHOWN_TEXT_BYTES);
  return {
    bytes: body.length,
    kind: view.kind,
    envelope: view.kind === 'envelope' ? view.envelope : null,
    text: shown.toString('utf8'),
    hex: hexDump(body.subarray(0, SHOWN_HEX_BYTES)),
    cutBytes: body.length - shown.length,
  };
}

/** One line saying what a job is: a beanline job's type and its args as JSON, else the start of its text. */
export function summary(body: Buffer): { type: string | null; error: string | null; text: string } {
  const view = describeBody(body, { maxTextBytes: SUMMARY_CHARS * 4 });
  if (view.kind === 'envelope') {
    const failure = view.envelope.failure;
    const args = JSON.stringify(view.envelope.args) ?? '';
    return { type: view.envelope.type, error: failure === undefined ? null : String(failure.message), text: args.slice(0, SUMMARY_CHARS) };
  }
  if (view.kind === 'text') return { type: null, error: null, text: view.text.slice(0, SUMMARY_CHARS) };
  return { type: null, error: null, text: `binary, ${body.length} bytes` };
}

export interface JobRow {
  readonly server: number;
  readonly id: number;
  readonly tube: string;
  readonly state: string;
  readonly pri: number;
  readonly age: number;
  readonly timeLeft: number;
  readonly type: string | null;
  readonly error: string | null;
  readonly summary: string;
}

export function jobRow(server: number, id: number, stats: JobStats, body: Buffer): JobRow {
  const { type, error, text } = summary(body);
  return { server, id, tube: stats.tube, state: stats.state, pri: stats.pri, age: stats.age, timeLeft: stats.timeLeft, type, error, summary: text };
}
