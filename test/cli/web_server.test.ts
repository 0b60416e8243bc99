/**
 * sasa serve's server: the page at /, the model's files at /model/, the run's Vega-Lite specs at
 * /curves.json, nothing outside those folders (404), and clear errors for an unbuilt page or a missing model.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startWebServer } from '../../src/cli/web_server.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-serve-'));
const [web, run] = [join(dir, 'web'), join(dir, 'run')];
const model = join(run, 'model');

/** GET `path` as given (no normalisation of '..'): status and body. */
function get(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((done, fail) => {
    const req = request({ hostname, port, path }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('sasa serve (web_server.ts)', () => {
  let server: Server;
  let url: string;
  before(async () => {
    mkdirSync(web, { recursive: true });
    mkdirSync(model, { recursive: true });
    writeFileSync(join(web, 'index.html'), '<p>page</p>');
    writeFileSync(join(model, 'model.json'), '{}');
    writeFileSync(join(run, 'loss.vl.json'), '{"mark": "line"}');
    writeFileSync(join(run, 'broken.vl.json'), '{');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    ({ server, url } = await startWebServer({ modelDir: model, port: 0, webRoot: web }));
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page, the model files and the run’s curve specs', async () => {
    assert.deepEqual(await get(url, '/'), { status: 200, body: '<p>page</p>' });
    assert.deepEqual(await get(url, '/model/model.json'), { status: 200, body: '{}' });
    const curves = await get(url, '/curves.json');
    assert.deepEqual(JSON.parse(curves.body), [{ name: 'loss', spec: { mark: 'line' } }]);
  });

  it('serves nothing outside the page and model folders', async () => {
    for (const path of [
      '/../secret.txt',
      '/model/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/model/%2e%2e%2fsecret.txt',
    ]) {
      const r = await get(url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /secret/);
    }
    assert.equal((await get(url, '/%E0%A4%A')).status, 400);
  });

  it('names an unbuilt page and a missing model directory', async () => {
    await assert.rejects(
      startWebServer({ modelDir: model, port: 0, webRoot: join(dir, 'none') }),
      /not built.*build:web/,
    );
    await assert.rejects(
      startWebServer({ modelDir: join(dir, 'nope'), port: 0, webRoot: web }),
      /--model-dir .*nope: no such/,
    );
  });
});
