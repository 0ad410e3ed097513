/**
 * Who may look, and which requests may change anything. Credentials are compared in constant
 * time. A change must be a POST that comes from the dashboard's own page: the browser's
 * `Sec-Fetch-Site` and `Origin` say where it came from, and the page's token (in a header, which a
 * cross-site form cannot set and a cross-site script cannot read) says it was the page.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';
import { isLoopback, type DashboardAuth } from './options.js';

/** The header the page sends its token in. */
export const TOKEN_HEADER = 'x-beanline-token';

/** A fresh token for the pages of one dashboard. */
export function newPageToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Equal strings, in time that does not depend on where they differ. */
function same(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison leaks neither content nor length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Throws 401 unless the request carries the credentials `auth` asks for. */
export function checkAuth(req: IncomingMessage, auth: DashboardAuth | null): void {
  if (auth === null) return;
  const header = req.headers.authorization ?? '';
  const challenge = { 'WWW-Authenticate': 'Basic realm="beanline dashboard", charset="UTF-8"' };
  const bearer = /^Bearer (\S+)$/i.exec(header);
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  let ok = false;
  if ('token' in auth) {
    // A browser has no way to send a bearer token on navigation: the token also works as the
    // password of its login prompt, whatever the user name.
    const password = basic === null ? null : passwordOf(basic[1] as string);
    const given = bearer?.[1] ?? password;
    ok = given !== null && given !== undefined && same(given, auth.token);
  } else if (basic !== null) {
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    ok = same(decoded, `${auth.user}:${auth.password}`);
  }
  if (!ok) throw new HttpError(401, 'authentication required', challenge);
}

function passwordOf(encoded: string): string | null {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/**
 * Throws 403 when, without auth, the Host header names neither this machine nor an allowed host.
 * Without it, a page of another site whose name resolves to 127.0.0.1 (DNS rebinding) would be the
 * dashboard's own origin to the browser, read the page token and send changes.
 */
export function checkHost(req: IncomingMessage, auth: DashboardAuth | null, allowedHosts: readonly string[]): void {
  if (auth !== null) return;
  const host = req.headers.host ?? '';
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {
    throw new HttpError(403, 'refused: the request has no usable Host header');
  }
  if (host === '' || !(isLoopback(name) || allowedHosts.includes(name))) {
    throw new HttpError(403, `refused: Host ${JSON.stringify(host)} is not this machine (give allowedHosts, or auth, to serve the dashboard under another name)`);
  }
}

/**
 * Throws 403 unless a change request comes from the dashboard's page: same-site by the browser's
 * own word, from an allowed origin, and with the page's token.
 */
export function checkChange(req: IncomingMessage, pageToken: string, allowedOrigins: readonly string[]): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw new HttpError(403, `refused: a change from another site (Sec-Fetch-Site: ${site})`);
  const origin = req.headers.origin;
  if (origin !== undefined && !originAllowed(origin, req, allowedOrigins)) throw new HttpError(403, 'refused: a change from another origin');
  const token = req.headers[TOKEN_HEADER];
  if (typeof token !== 'string' || !same(token, pageToken)) throw new HttpError(403, 'refused: the page token is missing or wrong (reload the page)');
}

function originAllowed(origin: string, req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  if (allowedOrigins.includes(origin)) return true;
  const host = req.headers.host;
  if (host === undefined) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  // The scheme is not compared: behind a TLS-terminating proxy the request arrives over plain HTTP.
  return parsed.host === host;
}

/**
 * Throws 403 for an API read another site's page started (an image or script tag pointing here):
 * it could not read the reply, but a scan costs the servers work, and nothing but the dashboard's
 * own page has a reason to ask. Requests without the header (curl, scripts) pass.
 */
export function checkRead(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, `refused: a request from another site (Sec-Fetch-Site: ${site})`);
}
