/**
 * Pages in headless Chromium for the browser tests and benchmarks: a page folder (index.html + its
 * TypeScript) is bundled by Vite into a temporary folder, served on localhost, and opened in Debian's
 * chromium driven by playwright-core. WebGL runs on SwiftShader (the CPU), which these machines
 * have without a GPU. Set SASA_CHROMIUM to use another Chromium binary.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';

export const CHROMIUM_PATH = process.env.SASA_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for WebGL 2 on SwiftShader in headless Chromium. */
const CHROMIUM_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];

/** Why the browser tests cannot run (false when Chromium is there). */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM_PATH)
    ? false
    : `Chromium not found at ${CHROMIUM_PATH}: install Debian's 'chromium' (apt-get install chromium; .ci/run and scripts/setup.sh do) or set SASA_CHROMIUM`;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
};

/** Serves the files of `root` on a free localhost port. */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
    try {
      const body = await readFile(join(root, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path) || '.html'] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

export interface OpenPage {
  page: Page;
  /** Uncaught errors and console errors of the page so far. */
  errors: string[];
  close(): Promise<void>;
}

/** Bundles the page folder `pageRoot` with Vite, serves it and opens it in headless Chromium. */
export async function openPage(pageRoot: string): Promise<OpenPage> {
  const outDir = await mkdtemp(join(tmpdir(), 'sasa-page-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    await build({
      root: pageRoot,
      base: './',
      configFile: false,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 1 << 20 },
    });
    const served = await serve(outDir);
    server = served.server;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // tfjs prints a shader that fails to compile, and the compiler's message, with console.log
      if (m.type() === 'error' || m.text().includes('ERROR:')) errors.push(m.text());
    });
    await page.goto(served.url);
    const opened = { browser, server };
    return {
      page,
      errors,
      close: async () => {
        await opened.browser.close();
        opened.server.close();
        await rm(outDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close();
    server?.close();
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
}
