/** Text widths from the bundled font against fontTools' reading of the same files (test/golden). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fontFiles } from '../../src/viz/chart.js';
import { readFontMetrics, textWidth } from '../../src/viz/font_metrics.js';

const golden = JSON.parse(readFileSync(new URL('../golden/font_widths.json', import.meta.url), 'utf8')) as {
  faces: Record<string, { unitsPerEm: number; widths: Record<string, number> }>;
};

describe('readFontMetrics', () => {
  const files = fontFiles();

  for (const [k, face] of ['400Regular', '700Bold'].entries()) {
    it(`gives fontTools' advance widths for Inter ${face}`, () => {
      assert.ok(files[k].endsWith(`Inter_${face}.ttf`), files[k]);
      const metrics = readFontMetrics(files[k]);
      const expected = golden.faces[face];
      assert.equal(metrics.unitsPerEm, expected.unitsPerEm);
      for (const [text, width] of Object.entries(expected.widths)) {
        assert.ok(Math.abs(textWidth(metrics, text, 1) - width) < 1e-9, `'${text}': ${textWidth(metrics, text, 1)}`);
        assert.ok(Math.abs(textWidth(metrics, text, 13) - 13 * width) < 1e-9, `'${text}' at 13 px`);
      }
    });
  }

  it('measures bold wider than regular', () => {
    const [regular, bold] = files.map(readFontMetrics);
    assert.ok(textWidth(bold, 'validation accuracy', 12) > textWidth(regular, 'validation accuracy', 12));
  });

  it('names a file that is not a font', () => {
    assert.throws(
      () => readFontMetrics(new URL(import.meta.url).pathname),
      /font .*font_metrics\.test\.ts: not a TrueType font/,
    );
  });
});
