/**
 * The few HTTP helpers the dashboard's routes share: replies with the security headers, JSON in and
 * out, and an error type that carries its status code, so a route can throw instead of replying.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the dashboard refuses; `status` is the reply's status code, `message` its text. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * Scripts only from the dashboard's own files, no inline script, no eval, no plugins, no framing,
 * and (where the browser knows Trusted Types) no assignment of HTML strings to the DOM at all: a
 * job body drawn by mistake with innerHTML throws instead of running.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ');

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Sends `body` with the security headers; `headers` add to them. */
export function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/** Starts a reply whose body follows later (server-sent events). */
export function startStream(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(200, { ...COMMON_HEADERS, ...headers });
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
}

export function sendError(res: ServerResponse, error: HttpError): void {
  send(res, error.status, JSON.stringify({ error: error.message }), {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    ...error.headers,
  });
}

const MAX_BODY_BYTES = 16 * 1024;

/** The request's JSON object body; a body that is not one, or too large, is a 400 / 413. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  // Only JSON: a form post from another site (text/plain, urlencoded, multipart) is refused even
  // before the origin and token checks look at it.
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'changes are sent as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'the request body is not a JSON object');
  return value as Record<string, unknown>;
}
