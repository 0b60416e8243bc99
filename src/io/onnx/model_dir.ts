/**
 * exportOnnxFile: a sasa model folder (the `model/` folder `sasa train` writes, or the run folder
 * holding it) → an ONNX file, with the model's metadata (configuration, normalisation, class names)
 * copied into the ONNX metadata_props.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import '../../layers/attention_stem.js';
import '../../layers/batch_norm.js';
import '../../layers/conv2d.js';
import { writeFileAtomic, writing } from '../files.js';
import { loadModelFiles, MODEL_JSON } from '../model_files.js';
import { exportOnnx, type OnnxExportOptions } from './export.js';

/** DIR itself when it holds model.json, else DIR/model when that does (a `sasa train` run folder). */
async function modelFolder(dir: string): Promise<string> {
  const has = (d: string) =>
    stat(join(d, MODEL_JSON)).then(
      (s) => s.isFile(),
      () => false,
    );
  if (await has(dir)) return dir;
  if (await has(join(dir, 'model'))) return join(dir, 'model');
  throw new Error(`${join(dir, MODEL_JSON)}: missing (not a sasa model folder, nor a run folder with model/)`);
}

/**
 * What {@link exportOnnxFile} wrote: the model folder it read, the ONNX file's size in bytes, and the
 * model's name.
 */
export interface OnnxFileSummary {
  modelDir: string;
  bytes: number;
  name: string;
}

/** Writes the ONNX graph of the sasa model in `dir` to `out` (atomically). */
export async function exportOnnxFile(
  dir: string,
  out: string,
  options: OnnxExportOptions = {},
): Promise<OnnxFileSummary> {
  const modelDir = await modelFolder(dir);
  const { model, metadata } = await loadModelFiles(modelDir);
  try {
    if (!metadata || typeof metadata.config !== 'object' || metadata.config === null) {
      throw new Error(`${join(modelDir, MODEL_JSON)}: not a sasa model (its metadata has no config)`);
    }
    const props: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata)) props[key] = JSON.stringify(value);
    props.input_layout = 'NHWC';
    const bytes = exportOnnx(model, { ...options, metadata: { ...props, ...options.metadata } });
    await writing(out, 'the ONNX model', () => writeFileAtomic(out, [bytes]));
    return { modelDir, bytes: bytes.length, name: model.name };
  } finally {
    model.dispose();
  }
}
