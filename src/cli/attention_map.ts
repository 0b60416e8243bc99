/**
 * `sasa attention-map` (where one pixel of one attention layer looks, per head: a PNG grid, a table or JSON)
 * and `sasa layers` (a model's attention layers, the names --layer takes).
 */
import type { Command } from 'commander';
import { writeFileAtomic, writing } from '../io/files.js';
import '../models/builder.js';
import { attentionLayers, attentionMap, checkPixel } from '../tasks/classification/attention_map.js';
import { imageInput, loadTrainedModel } from '../tasks/classification/trained_model.js';
import * as tf from '../tf.js';
import { drawAttentionMap } from '../viz/attention_map.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';

interface MapFlags extends BackendFlags {
  modelDir: string;
  image: string;
  layer?: string;
  pixel?: [number, number];
  out?: string;
  json?: boolean;
}

/** Parses --pixel X,Y (two non-negative integers). */
function pixelOption(value: string): [number, number] {
  const parts = value.split(',');
  const xy = parts.map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : Number.NaN));
  if (xy.length !== 2 || xy.some(Number.isNaN)) {
    throw new Error(`--pixel must be X,Y (two non-negative integers, e.g. 14,14), got '${value}'`);
  }
  return [xy[0], xy[1]];
}

const percent = (w: number) => (100 * w).toFixed(1).padStart(5);

export function registerAttentionMap(program: Command): void {
  withBackendOptions(program.command('attention-map'))
    .description(
      "where one pixel of an attention layer looks: each head's k×k softmax weights, drawn over the image at the " +
        "layer's resolution (--out PNG), printed as tables, or as JSON",
    )
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .requiredOption('--image <file>', 'an image (JPEG, PNG), prepared as sasa predict prepares it')
    .option('--layer <name>', 'an attention layer as sasa layers lists it (default: the first, the stem if any)')
    .option('--pixel <x,y>', "the query pixel in the model's input image (default: its centre)", pixelOption)
    .option('--out <png>', 'write the grid over the heads as a PNG')
    .option('--json', 'print {layer, pixel, kernelSize, heads: [k×k arrays]} (and layerPixel, resolution)')
    .action(async (flags: MapFlags) => {
      await startBackend(flags);
      const trained = await loadTrainedModel(flags.modelDir);
      const [size] = trained.inputShape;
      if (flags.pixel) checkPixel(flags.pixel, size, '--pixel');
      if (flags.layer !== undefined && !attentionLayers(trained.model).some((l) => l.name === flags.layer)) {
        const known = attentionLayers(trained.model).map((l) => l.name);
        throw new Error(`--layer ${flags.layer}: no such attention layer (the model's: ${known.join(', ') || 'none'})`);
      }
      const input = await imageInput(trained, flags.image, true);
      const x = tf.tensor4d(input.x, [1, size, size, input.channels]);
      const map = attentionMap(trained.model, x, flags.layer, flags.pixel);
      x.dispose();
      if (flags.out) {
        const out = flags.out;
        const rgb = { data: Uint8Array.from(input.rgb, (v) => Math.round(255 * v)), width: size, height: size };
        const png = await drawAttentionMap(rgb, map);
        await writing(out, 'the attention map', () => writeFileAtomic(out, [png]));
      }
      if (flags.json) console.log(JSON.stringify(map));
      else {
        const [x, y] = map.pixel;
        console.log(`${map.layer}: pixel (${x}, ${y}) → (${map.layerPixel.join(', ')}) at ${map.resolution.join('×')}`);
        map.heads.forEach((head, n) => {
          console.log(`head ${n} (%)`);
          for (const row of head) console.log(`  ${row.map(percent).join(' ')}`);
        });
        if (flags.out) console.log(`wrote ${flags.out}`);
      }
    });

  withBackendOptions(program.command('layers'))
    .description("list a model's attention layers (stem included): the names sasa attention-map --layer takes")
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .option('--json', 'print the list as JSON')
    .action(async (flags: BackendFlags & { modelDir: string; json?: boolean }) => {
      await startBackend(flags);
      const layers = attentionLayers((await loadTrainedModel(flags.modelDir)).model);
      if (flags.json) {
        console.log(JSON.stringify(layers));
        return;
      }
      const width = Math.max(5, ...layers.map((l) => l.name.length));
      console.log(`${'layer'.padEnd(width)}  kind       resolution  k   heads`);
      for (const l of layers) {
        const res = l.resolution.join('×');
        console.log(
          `${l.name.padEnd(width)}  ${l.kind.padEnd(9)}  ${res.padEnd(10)}  ${String(l.kernelSize).padEnd(2)}  ${l.heads}`,
        );
      }
    });
}
