/**
 * Writes web/public/sample.png, the web page's bundled sample: the first test image of the repository's
 * Fashion-MNIST subset (28×28, grey as RGB), the input size of the demo models.
 * Run: npx tsx tools/web_sample.ts
 */
import sharp from 'sharp';
import { loadIdxImages } from '../src/data/idx.js';

const images = await loadIdxImages('data/fashion-mnist-subset/t10k-images-idx3-ubyte.gz');
const [, h, w] = images.dims;
const grey = images.data.subarray(0, h * w);
const rgb = Buffer.alloc(h * w * 3);
for (let p = 0; p < h * w; p++) rgb.fill(grey[p], 3 * p, 3 * p + 3);
await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
  .png()
  .toFile('web/public/sample.png');
console.log(`web/public/sample.png: ${w}×${h}`);
