/** `sasa table` and `sasa models` through the real command line: the JSON contract and errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('sasa table', () => {
  it('--json prints one array with name, integer params and flops, and the config, for every study', () => {
    const sizes: Record<string, number> = { paper: 9, groups: 8, k: 5, encoding: 3, logits: 2, stem: 3 };
    for (const [study, n] of Object.entries(sizes)) {
      const r = sasa('table', '--study', study, '--json');
      assert.equal(r.status, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as {
        name: string;
        params: number;
        flops: number;
        config: { blocks: number[] };
      }[];
      assert.equal(rows.length, n, study);
      for (const row of rows) {
        assert.ok(Number.isInteger(row.params) && Number.isInteger(row.flops) && row.flops > row.params, row.name);
        assert.ok(Array.isArray(row.config.blocks), row.name);
      }
      if (study !== 'paper')
        assert.ok(
          rows.every((row) => row.config.blocks.join() === '3,4,6,3'),
          `${study}: ResNet-50`,
        );
    }
  });

  it('--study detection: RetinaNet with conv or attention FPN/heads over the three ResNet-50 backbones at 640', () => {
    const r = sasa('table', '--study', 'detection', '--json');
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { name: string; params: number; flops: number }[];
    assert.deepEqual(
      rows.map((row) => row.name),
      ['resnet50', 'sasa_resnet50_convstem', 'sasa_resnet50'].flatMap((b) => [
        `retinanet_${b}`,
        `retinanet_${b}_attnfpn`,
      ]),
    );
    // torchvision 0.14 retinanet_resnet50_fpn(num_classes=80): test/golden/detection/retinanet_counts.json
    assert.equal(rows[0].params, 33839924);
    assert.ok(rows.every((row) => Number.isInteger(row.flops) && row.flops > 1e11));
    const text = sasa('table', '--study', 'detection');
    assert.match(text.stdout, /resnet50 \+ conv FPN\/heads\s+33\.8 M/);
    assert.match(text.stdout, /At 640×640, 80 classes/);
  });

  it('prints the paper table with the paper numbers beside ours', () => {
    const r = sasa('table');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /resnet50\s+25\.6 M\s+8\.2 B\s+25\.6 M\s+8\.2 B/);
  });

  it('refuses an unknown study and an unknown model pattern with exit status 1', () => {
    const t = sasa('table', '--study', 'depth');
    assert.equal(t.status, 1);
    assert.match(t.stderr, /--study must be one of paper, groups, k, encoding, logits, stem, detection, got 'depth'/);
    const m = sasa('models', 'vit*');
    assert.equal(m.status, 1);
    assert.match(m.stderr, /no model matches 'vit\*'; known models: resnet26/);
  });
});
