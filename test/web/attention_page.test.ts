/**
 * The web page in headless Chromium (Debian's chromium driven by playwright-core), served by `sasa serve`'s
 * server with a small saved model: a fixed image classified on the CPU backend gives Node's top-1 and
 * probabilities (1e-4), on WebGL (SwiftShader) within 1e-3; hovering a pixel draws the CLI's weights for
 * that pixel; the training curves are drawn from the run's .vl.json; bad model folders and bad images are
 * said on the page. Screenshots go to $SASA_WEB_SCREENSHOTS (default: a temporary folder, printed), and
 * the page weight (bytes before the first classification) is printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build } from 'vite';
import { startWebServer } from '../../src/cli/web_server.js';
import { imageInput, loadTrainedModel } from '../../src/tasks/classification/trained_model.js';
import * as tf from '../../src/tf.js';
import { linePlot, writePng } from '../../src/viz/plots.js';
import { assertClose, setup } from '../helpers.js';
import { writeTinyModel } from '../tasks/classification/tiny_model.js';

declare global {
  interface Window {
    sasaPage: {
      state: { backend?: string; firstClassifiedAt?: number };
      classify(url: string, name: string): Promise<void>;
    };
  }
}

const CHROMIUM = process.env.SASA_CHROMIUM ?? '/usr/bin/chromium';
/** WebGL 2 on SwiftShader (the CPU) in headless Chromium. */
const CHROMIUM_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];
const missing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;

const dir = mkdtempSync(join(tmpdir(), 'sasa-web-'));
const shots = process.env.SASA_WEB_SCREENSHOTS ?? join(dir, 'screenshots');
const webRoot = join(dir, 'web');
const run = join(dir, 'run');
const modelDir = join(run, 'model');
const FIXED = 'fixed.png';
const [LAYER, PIXEL, HEAD] = ['layer3.0.conv2', [5, 11] as const, 2];

/** A 16×16 image with a bright ring and a gradient (no resizing: the page and Node see the same pixels). */
function fixedImage(side: number): Promise<Buffer> {
  const data = Buffer.alloc(side * side * 3);
  for (let p = 0; p < side * side; p++) {
    const [x, y] = [p % side, Math.floor(p / side)];
    const ring = Math.abs(Math.hypot(x - side / 2, y - side / 2) - side / 3.5) < 1.5;
    data[3 * p] = ring ? 240 : 16 * (x % 16);
    data[3 * p + 1] = ring ? 200 : 12 * (y % 16);
    data[3 * p + 2] = ring ? 40 : 90;
  }
  return sharp(data, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

async function serve(model: string): Promise<{ server: Server; url: string }> {
  return startWebServer({ modelDir: model, port: 0, webRoot });
}

async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => ['classified', 'error'].includes(document.body.dataset.state ?? ''), null, {
    timeout: 120_000,
  });
  return { page, errors };
}

/** The page's top classes after classifying the fixed image. */
async function classifyFixed(page: Page): Promise<{ label: string; probability: number }[]> {
  await page.evaluate((name) => window.sasaPage.classify(name, name), FIXED);
  return JSON.parse((await page.getAttribute('#top5', 'data-top')) ?? '[]');
}

describe('the web page in Chromium', { skip: missing }, () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  let node: { label: string; probability: number }[];

  before(async () => {
    await setup();
    await writeTinyModel(modelDir);
    const chart = linePlot({
      title: 'loss',
      series: [
        {
          name: 'train',
          points: [
            [1, 2],
            [2, 1.2],
            [3, 0.9],
          ],
        },
      ],
    });
    await writePng(join(run, 'loss.png'), chart);
    await build({
      configFile: 'web/vite.config.ts',
      logLevel: 'error',
      build: { outDir: webRoot, emptyOutDir: true },
    });
    writeFileSync(join(webRoot, FIXED), await fixedImage(16));
    const trained = await loadTrainedModel(modelDir);
    const input = await imageInput(trained, join(webRoot, FIXED));
    const probabilities = tf.tidy(() =>
      tf.softmax(trained.model.predict(tf.tensor4d(input.x, [1, 16, 16, 3])) as tf.Tensor).dataSync(),
    );
    node = [...probabilities].map((probability, i) => ({ label: trained.classNames[i], probability }));
    ({ server, url } = await serve(modelDir));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('classifies as Node does on CPU, draws the CLI weights of a hovered pixel and the curves', async () => {
    const { page, errors } = await open(browser, `${url}?backend=cpu`);
    const weight = await page.evaluate(() => {
      const at = window.sasaPage.state.firstClassifiedAt ?? 0;
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const before = resources.filter((r) => r.responseEnd <= at);
      return navigation.encodedBodySize + before.reduce((n, r) => n + r.encodedBodySize, 0);
    });
    console.log(`page weight before the first classification: ${weight} bytes (the tiny model included)`);
    const top = await classifyFixed(page);
    assert.equal(top.length, 5);
    const byProbability = [...node].sort((a, b) => b.probability - a.probability);
    assert.equal(top[0].label, byProbability[0].label);
    assertClose(
      top.map((c) => c.probability),
      byProbability.slice(0, 5).map((c) => c.probability),
      { tol: 1e-4, label: 'probabilities' },
    );

    await page.selectOption('#layer', LAYER);
    await page.selectOption('#head', String(HEAD));
    const box = await page.locator('#overlay').boundingBox();
    assert.ok(box);
    const cell = box.width / 16;
    await page.mouse.move(box.x + (PIXEL[0] + 0.5) * cell, box.y + (PIXEL[1] + 0.5) * cell);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#overlay')?.dataset.map !== undefined);
    const drawn = JSON.parse((await page.getAttribute('#overlay', 'data-map')) ?? '{}');
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'attention-map',
        '--model-dir',
        modelDir,
        '--image',
        join(webRoot, FIXED),
      ].concat(['--layer', LAYER, '--pixel', PIXEL.join(','), '--json']),
      { encoding: 'utf8', env: { ...process.env, SASA_NUM_THREADS: '1' } },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const want = JSON.parse(cli.stdout);
    assert.deepEqual([drawn.layer, drawn.pixel, drawn.head], [LAYER, [...PIXEL], HEAD]);
    assert.deepEqual(drawn.layerPixel, want.layerPixel);
    assertClose(drawn.heads.flat(2), want.heads.flat(2), { tol: 1e-4, label: 'attention weights' });

    await page.waitForSelector('#charts figure svg', { timeout: 60_000 });
    assert.equal(await page.locator('#charts figure').count(), 1);
    await page.screenshot({ path: join(shots, 'attention_page.png'), fullPage: true });
    console.log(`screenshot: ${join(shots, 'attention_page.png')}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('classifies on WebGL (or says it fell back to CPU) within 1e-3 of Node', async () => {
    const { page, errors } = await open(browser, url);
    const backend = await page.evaluate(() => window.sasaPage.state.backend);
    const top = await classifyFixed(page);
    const byProbability = [...node].sort((a, b) => b.probability - a.probability);
    assert.equal(top[0].label, byProbability[0].label, `on ${backend}`);
    assertClose(
      top.map((c) => c.probability),
      byProbability.slice(0, 5).map((c) => c.probability),
      { tol: 1e-3, label: `probabilities on ${backend}` },
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('says on the page which model file is missing or which layer is unknown', async () => {
    const noWeights = join(dir, 'no-weights');
    cpSync(modelDir, noWeights, { recursive: true });
    rmSync(join(noWeights, 'weights.bin'));
    const unknown = join(dir, 'unknown-layer');
    cpSync(modelDir, unknown, { recursive: true });
    const json = join(unknown, 'model.json');
    writeFileSync(json, readFileSync(json, 'utf8').replace('"AttentionStem"', '"FancyStem"'));
    for (const [model, message] of [
      [noWeights, /model\/weights\.bin: missing/],
      [unknown, /model\/model\.json: cannot build the model from it \(Unknown layer: FancyStem/],
    ] as const) {
      const served = await serve(model);
      const { page } = await open(browser, `${served.url}?backend=cpu`);
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'error');
      assert.match((await page.textContent('#error')) ?? '', message);
      await page.close();
      served.server.close();
    }
  });

  it('says on the page that an image cannot be decoded or is too small', async () => {
    writeFileSync(join(webRoot, 'junk.png'), 'not an image');
    writeFileSync(join(webRoot, 'small.png'), await fixedImage(8));
    const { page, errors } = await open(browser, `${url}?backend=cpu`);
    for (const [name, message] of [
      ['junk.png', /junk\.png: cannot be decoded as an image/],
      ['small.png', /small\.png: the image is 8×8, too small for the model's 16×16 input/],
    ] as const) {
      await page.evaluate((n) => window.sasaPage.classify(n, n), name);
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'error');
      assert.match((await page.textContent('#error')) ?? '', message);
    }
    await page.screenshot({ path: join(shots, 'attention_page_error.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
