/**
 * The web page's server (`sasa serve`): the built page (dist/web) at /, the model folder's files at
 * /model/<file>, and /curves.json: the Vega-Lite specs (*.vl.json) in the model folder and in the run folder
 * above it, as [{name, spec}]. Only files directly inside those folders are served.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:web` writes the page (the same from src/cli and dist/cli). */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface WebServerOptions {
  modelDir: string;
  port: number;
  host?: string;
  webRoot?: string;
}

/** The file `path` (URL path, decoded) inside `root`, or null when it would leave it. */
function inside(root: string, path: string): string | null {
  const full = resolve(root, `.${normalize(`/${path}`)}`);
  return full.startsWith(resolve(root) + sep) ? full : null;
}

/** The Vega-Lite specs beside the model: its folder's and its run folder's *.vl.json. */
async function curveSpecs(modelDir: string): Promise<{ name: string; spec: unknown }[]> {
  const specs: { name: string; spec: unknown }[] = [];
  for (const dir of [modelDir, dirname(resolve(modelDir))]) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.vl.json')).sort();
    for (const name of names) {
      const text = await readFile(join(dir, name), 'utf8').catch(() => null);
      if (text === null) continue;
      try {
        specs.push({ name: basename(name, '.vl.json'), spec: JSON.parse(text) });
      } catch {
        // a spec that is not JSON is left out; the page shows the others
      }
    }
  }
  return specs;
}

interface Reply {
  status: number;
  type: string;
  body: Buffer | string;
}

async function fileResponse(path: string | null): Promise<Reply> {
  const info = path ? await stat(path).catch(() => null) : null;
  if (!path || !info?.isFile()) return { status: 404, type: 'text/plain', body: 'not found' };
  const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  return { status: 200, type, body: await readFile(path) };
}

/** The reply to a GET of `url`. */
async function respond(url: string, modelDir: string, webRoot: string): Promise<Reply> {
  const path = decodeURIComponent(new URL(url, 'http://localhost').pathname);
  if (path === '/curves.json') {
    return { status: 200, type: CONTENT_TYPES['.json'], body: JSON.stringify(await curveSpecs(modelDir)) };
  }
  if (path.startsWith('/model/')) {
    const name = path.slice('/model/'.length);
    return fileResponse(name.includes('/') ? null : inside(modelDir, name));
  }
  return fileResponse(inside(webRoot, path === '/' ? 'index.html' : path));
}

/** Starts the server; resolves once it listens, with its URL. */
export async function startWebServer(options: WebServerOptions): Promise<{ server: Server; url: string }> {
  const webRoot = options.webRoot ?? WEB_ROOT;
  if (!existsSync(join(webRoot, 'index.html'))) {
    throw new Error(`${webRoot}: the web page is not built (npm run build:web builds it)`);
  }
  const info = await stat(options.modelDir).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`--model-dir ${options.modelDir}: no such model directory`);
  const server = createServer(async (req, res) => {
    const reply = await respond(req.url ?? '/', options.modelDir, webRoot).catch((err: Error) => ({
      status: 400,
      type: 'text/plain',
      body: err.message,
    }));
    res.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store' });
    res.end(reply.body);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(new Error(err.code === 'EADDRINUSE' ? `--port ${options.port}: already in use` : err.message)),
    );
    server.listen(options.port, host, done);
  });
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}/` };
}
