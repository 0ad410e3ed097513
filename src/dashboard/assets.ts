/**
 * The page's static files: everything under src/dashboard/assets/ (shipped in the package as
 * source, so there is no build step), and uPlot from the uplot package. All read once into memory
 * when the dashboard is created; a request can only name one of them, never a path on disk.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The sources sit beside the compiled code in the package: dist/src/dashboard/ compiled,
 * src/dashboard/assets/ as written.
 */
export const ASSETS_DIR = fileURLToPath(new URL('../../../src/dashboard/assets/', import.meta.url));

function asset(body: Buffer, file: string): Asset {
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Every asset by the path the page asks for (`app.js`, `pages/job.js`, `vendor/uplot.js`). */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${name}/`);
      else if (entry.isFile() && path.extname(entry.name) in TYPES) assets.set(name, asset(readFileSync(path.join(dir, entry.name)), entry.name));
    }
  };
  walk(ASSETS_DIR, '');
  const require = createRequire(import.meta.url);
  const uplotJs = require.resolve('uplot/dist/uPlot.esm.js');
  assets.set('vendor/uplot.js', asset(readFileSync(uplotJs), 'uplot.js'));
  assets.set('vendor/uplot.css', asset(readFileSync(path.join(path.dirname(uplotJs), 'uPlot.min.css')), 'uplot.css'));
  return assets;
}
