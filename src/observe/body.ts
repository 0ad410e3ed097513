/**
 * How a job body is shown to an operator, for the CLI and a future dashboard alike: `describeBody`
 * says what the body is (a beanline envelope, printable text, or binary), `bodyLines` draws that as
 * plain text lines. A dashboard can draw the same description its own way.
 */
import { parseEnvelope, type JobEnvelope } from '../jobs/envelope.js';

export interface BodyLimits {
  /** Text bodies longer than this many bytes are cut. Default 4096. */
  maxTextBytes?: number;
  /** Binary bodies are dumped up to this many bytes. Default 512. */
  maxHexBytes?: number;
  /** An envelope's args and custom, as JSON, are cut after this many characters. Default 4096. */
  maxJsonChars?: number;
}

/** What a body is, ready to draw. `cutBytes` counts the bytes left out (0 when it is whole). */
export type BodyView =
  | { readonly kind: 'envelope'; readonly bytes: number; readonly envelope: JobEnvelope }
  | { readonly kind: 'text'; readonly bytes: number; readonly text: string; readonly cutBytes: number }
  | { readonly kind: 'binary'; readonly bytes: number; readonly shown: Buffer; readonly cutBytes: number };

const DEFAULT_TEXT_BYTES = 4096;
const DEFAULT_HEX_BYTES = 512;
const DEFAULT_JSON_CHARS = 4096;
const HEX_ROW = 16;

/** Tells an envelope, printable text and binary apart; never throws. */
export function describeBody(body: Buffer, limits: BodyLimits = {}): BodyView {
  const bytes = body.length;
  const text = printableText(body);
  if (text === null) {
    const max = limits.maxHexBytes ?? DEFAULT_HEX_BYTES;
    const shown = body.subarray(0, max);
    return { kind: 'binary', bytes, shown, cutBytes: bytes - shown.length };
  }
  const parsed = parseEnvelope(body);
  if (parsed.ok) return { kind: 'envelope', bytes, envelope: parsed.envelope };
  const max = limits.maxTextBytes ?? DEFAULT_TEXT_BYTES;
  if (bytes <= max) return { kind: 'text', bytes, text, cutBytes: 0 };
  let cut = max;
  // Back off to the start of a character, so a cut never splits one.
  while (cut > 0 && ((body[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return { kind: 'text', bytes, text: body.subarray(0, cut).toString('utf8'), cutBytes: bytes - cut };
}

/** The body as text lines: a heading line, then the content. */
export function bodyLines(view: BodyView, limits: BodyLimits = {}): string[] {
  switch (view.kind) {
    case 'envelope':
      return envelopeLines(view.envelope, view.bytes, limits.maxJsonChars ?? DEFAULT_JSON_CHARS);
    case 'text':
      if (view.bytes === 0) return ['body: empty'];
      return [`body: text, ${plural(view.bytes, 'byte')}`, ...view.text.split(/\r?\n/), ...cutNote(view.cutBytes, view.bytes)];
    case 'binary':
      return [`body: binary, ${plural(view.bytes, 'byte')}`, ...hexDump(view.shown), ...cutNote(view.cutBytes, view.bytes)];
  }
}

/** describeBody then bodyLines, joined. */
export function formatBody(body: Buffer, limits: BodyLimits = {}): string {
  return bodyLines(describeBody(body, limits), limits).join('\n');
}

/** Valid UTF-8 with no control characters other than tab, CR and LF; else null. */
function printableText(body: Buffer): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return null;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text) ? null : text;
}

function envelopeLines(envelope: JobEnvelope, bytes: number, maxJson: number): string[] {
  const lines = [
    `body: beanline job, ${plural(bytes, 'byte')}`,
    `type: ${envelope.type}`,
    `jid: ${envelope.jid}`,
    ...json('args', envelope.args, maxJson),
  ];
  if (Object.keys(envelope.custom).length > 0) lines.push(...json('custom', envelope.custom, maxJson));
  if (envelope.schedule !== undefined) lines.push(`schedule: ${envelope.schedule.id}, tick ${envelope.schedule.tick}`);
  if (envelope.at !== undefined) lines.push(`at: ${envelope.at}`);
  lines.push(`created: ${envelope.createdAt}`, `enqueued: ${envelope.enqueuedAt}`, `retry: ${envelope.retry}`);
  const failure = envelope.failure;
  if (failure !== undefined) {
    lines.push(
      `failure: ${String(failure.message)}`,
      `  error type: ${String(failure.errorType)}`,
      `  retry count: ${failure.retryCount}`,
      `  failed at: ${String(failure.failedAt)}`,
    );
    if (Array.isArray(failure.backtrace) && failure.backtrace.length > 0) {
      lines.push('  backtrace:', ...failure.backtrace.map((frame) => `    ${String(frame)}`));
    }
  }
  return lines;
}

/** `name: <json>`, pretty when it spans lines, cut after maxChars characters. */
function json(name: string, value: unknown, maxChars: number): string[] {
  const whole = JSON.stringify(value, null, 2) ?? 'undefined';
  const shown = whole.length > maxChars ? whole.slice(0, maxChars) : whole;
  const lines = shown.split('\n');
  const out = [`${name}: ${lines[0] ?? ''}`, ...lines.slice(1)];
  if (shown.length < whole.length) out.push(`... ${plural(whole.length - shown.length, 'more character')} of ${name} not shown`);
  return out;
}

/** Offset, 16 bytes in hex, the same bytes as ASCII (`.` for the rest): a row per 16 bytes. */
export function hexDump(bytes: Buffer): string[] {
  const rows: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += HEX_ROW) {
    const row = bytes.subarray(offset, offset + HEX_ROW);
    const hex = [...row].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
    rows.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(HEX_ROW * 3 - 1)}  |${ascii}|`);
  }
  return rows;
}

function cutNote(cutBytes: number, bytes: number): string[] {
  return cutBytes === 0 ? [] : [`... ${plural(cutBytes, 'more byte')} not shown (the body is ${plural(bytes, 'byte')})`];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A body for JSON output: an envelope as itself, text as a string, binary as base64; sizes kept. */
export type BodyJson =
  | { readonly kind: 'envelope'; readonly bytes: number; readonly envelope: JobEnvelope }
  | { readonly kind: 'text'; readonly bytes: number; readonly text: string }
  | { readonly kind: 'binary'; readonly bytes: number; readonly base64: string };

/** The whole body, uncut: a script reading JSON wants all of it. */
export function bodyJson(body: Buffer): BodyJson {
  const view = describeBody(body, { maxTextBytes: Infinity });
  switch (view.kind) {
    case 'envelope':
      return view;
    case 'text':
      return { kind: 'text', bytes: view.bytes, text: view.text };
    case 'binary':
      return { kind: 'binary', bytes: view.bytes, base64: body.toString('base64') };
  }
}

/** One line saying what a job is: an envelope's type (and failure), else the start of the text. */
export function bodySummary(body: Buffer, maxChars = 60): string {
  const view = describeBody(body, { maxTextBytes: maxChars * 4 });
  switch (view.kind) {
    case 'envelope': {
      const failure = view.envelope.failure;
      return failure === undefined ? view.envelope.type : `${view.envelope.type}: ${oneLine(String(failure.message), maxChars)}`;
    }
    case 'text':
      return view.bytes === 0 ? '(empty)' : oneLine(view.text, maxChars);
    case 'binary':
      return `(binary, ${plural(view.bytes, 'byte')})`;
  }
}

function oneLine(text: string, maxChars: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat;
}
