/**
 * The web page's weight: the bytes Chromium loads before the page's first classification (its HTML, CSS,
 * script, the sample image and the model), with the built page (npm run build:web) and a model folder.
 * Run: npx tsx bench/page_weight.ts MODEL_DIR [cpu|webgl]
 */
import { chromium } from 'playwright-core';
import { startWebServer } from '../src/cli/web_server.js';

const [modelDir, backend = 'cpu'] = process.argv.slice(2);
if (!modelDir) throw new Error('usage: npx tsx bench/page_weight.ts MODEL_DIR [cpu|webgl]');
const { server, url } = await startWebServer({ modelDir, port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.SASA_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}?backend=${backend}`);
  await page.waitForFunction(() => ['classified', 'error'].includes(document.body.dataset.state ?? ''), null, {
    timeout: 300_000,
  });
  const loads = await page.evaluate(() => {
    const at = (window as unknown as { sasaPage: { state: { firstClassifiedAt?: number } } }).sasaPage.state
      .firstClassifiedAt;
    const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
      (r) => at !== undefined && r.responseEnd <= at,
    );
    return {
      classifiedAtMs: at,
      files: [{ name: navigation.name, bytes: navigation.encodedBodySize }].concat(
        resources.map((r) => ({ name: r.name, bytes: r.encodedBodySize })),
      ),
    };
  });
  for (const f of loads.files) console.log(`${String(f.bytes).padStart(9)}  ${new URL(f.name).pathname}`);
  const total = loads.files.reduce((n, f) => n + f.bytes, 0);
  console.log(
    `${String(total).padStart(9)}  bytes before the first classification (${backend}, shown at ${Math.round(loads.classifiedAtMs ?? 0)} ms)`,
  );
} finally {
  await browser.close();
  server.close();
}
