/**
 * The public entries: package.json "exports" names a source entry for every subpath, the root exports
 * only its short list, sasa/node registers file://, and bundling sasa/node for a browser fails at
 * build time with the stub's message (esbuild, which tsx ships, on a throw-away copy of the package).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';

const ROOT = new URL('../../', import.meta.url).pathname;
const SUBPATHS = ['.', './ops', './layers', './models', './train', './data', './detection', './node'];
type Conditions = Record<string, string>;

/** package.json's exports map. */
async function exportsMap(): Promise<Record<string, Conditions | string>> {
  return JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).exports;
}

/** The source file a dist target is built from: ./dist/api/x.js → src/api/x.ts. */
const sourceOf = (target: string) => join(ROOT, target.replace(/^\.\/dist\//, 'src/').replace(/\.(d\.ts|js)$/, '.ts'));

describe('public entries', () => {
  it('package.json exports each subpath with types and import targets built from an existing source', async () => {
    const map = await exportsMap();
    assert.deepEqual(Object.keys(map).sort(), [...SUBPATHS, './package.json'].sort());
    for (const subpath of SUBPATHS) {
      const conditions = map[subpath] as Conditions;
      assert.deepEqual(Object.keys(conditions).at(-1), 'import', `${subpath}: "import" must come last`);
      for (const target of Object.values(conditions)) assert.ok(existsSync(sourceOf(target)), `${subpath}: ${target}`);
    }
  });

  it('the root exports the short list, nothing internal', async () => {
    const root = await import('../../src/index.js');
    assert.deepEqual(Object.keys(root).sort(), [
      'FASHION_MNIST_CLASSES',
      'SgdOptimizer',
      'createModel',
      'initBackend',
      'listModels',
      'loadData',
      'modelConfig',
      'parseDataSpec',
    ]);
  });

  it('every subpath entry loads and exports functions or classes', async () => {
    for (const name of ['ops', 'layers', 'models', 'train', 'data', 'detection', 'node']) {
      const entry = await import(`../../src/api/${name}.ts`);
      assert.ok(
        Object.values(entry).some((v) => typeof v === 'function'),
        `sasa/${name} exports no function`,
      );
    }
  });
});

describe('sasa/node in a bundle', () => {
  let project: string;
  before(async () => {
    // node_modules/sasa: package.json as it is, the two dist files the "./node" conditions name.
    project = await mkdtemp(join(tmpdir(), 'sasa-bundle-'));
    const pkg = join(project, 'node_modules', 'sasa');
    await mkdir(join(pkg, 'dist', 'api'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), await readFile(join(ROOT, 'package.json')));
    const stub = await esbuild.transform(await readFile(join(ROOT, 'src/api/node.browser.ts'), 'utf8'), {
      loader: 'ts',
    });
    await writeFile(join(pkg, 'dist/api/node.browser.js'), stub.code);
    await writeFile(join(pkg, 'dist/api/node.js'), 'export const node = true;\n');
    await writeFile(join(project, 'app.js'), "import * as sasa from 'sasa/node';\nconsole.log(sasa);\n");
  });
  after(() => rm(project, { recursive: true, force: true }));

  const bundle = (platform: 'browser' | 'node') =>
    esbuild.build({
      entryPoints: [join(project, 'app.js')],
      absWorkingDir: project,
      bundle: true,
      write: false,
      platform,
      format: 'esm',
      logLevel: 'silent',
    });

  it('fails to build for a browser, the error saying sasa/node is for Node.js only', async () => {
    await assert.rejects(bundle('browser'), (err: esbuild.BuildFailure) => {
      assert.equal(err.errors.length, 1);
      assert.match(err.errors[0].text, /sasa\/node is for Node\.js only \(native backend, file system\)/);
      assert.match(err.errors[0].location?.file ?? '', /node\.browser\.js$/);
      return true;
    });
  });

  it('builds for Node (the "import" condition)', async () => {
    const result = await bundle('node');
    assert.match(result.outputFiles[0].text, /node = true/);
  });
});

describe('ops and layers in a browser bundle', () => {
  it('bundle for a browser with tfjs external (no Node built-ins reached)', async () => {
    for (const name of ['ops', 'layers']) {
      const result = await esbuild.build({
        entryPoints: [join(ROOT, `src/api/${name}.ts`)],
        bundle: true,
        write: false,
        platform: 'browser',
        format: 'esm',
        external: ['@tensorflow/*'],
        logLevel: 'silent',
      });
      assert.equal(result.errors.length, 0, `sasa/${name}`);
    }
  });
});
