/**
 * `sasa export onnx --model-dir DIR --out model.onnx [--opset 17] [--batch dynamic|N]`: a sasa model
 * folder as an ONNX graph of standard operators (input `image` [B, H, W, C] NHWC, output `logits`).
 */
import type { Command } from 'commander';
import { checkExportOptions, ONNX_EXPORT_DEFAULTS, ONNX_INPUT, ONNX_OUTPUT } from '../io/onnx/export.js';
import { exportOnnxFile } from '../io/onnx/model_dir.js';

interface OnnxFlags {
  modelDir: string;
  out: string;
  opset: string;
  batch: string;
}

/** The export options from the flags; errors name the flag. */
export function onnxOptionsOf(flags: Pick<OnnxFlags, 'opset' | 'batch'>): { opset: number; batch: 'dynamic' | number } {
  const integer = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : Number.NaN);
  const opset = integer(flags.opset);
  const batch = flags.batch === 'dynamic' ? 'dynamic' : integer(flags.batch);
  const bad = checkExportOptions({ opset, batch });
  if (bad) {
    const given = bad.field === 'opset' ? flags.opset : flags.batch;
    throw new Error(`--${bad.field} ${bad.problem.replace(/got [^ ]*/, `got '${given}'`)}`);
  }
  return { opset, batch };
}

export function registerExport(program: Command): void {
  const command = program.command('export').description('export a trained model to another format');
  command
    .command('onnx')
    .description(
      `a sasa model folder as ONNX (standard operators, batch norms folded): input '${ONNX_INPUT}' [B, H, W, C] NHWC float, normalised as in training; output '${ONNX_OUTPUT}' [B, classes]`,
    )
    .requiredOption('--model-dir <dir>', "the model folder (model.json + weights.bin) or a run folder holding 'model/'")
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--opset <n>', 'ONNX opset (13 to 21)', String(ONNX_EXPORT_DEFAULTS.opset))
    .option(
      '--batch <size>',
      "'dynamic' (a symbolic batch dimension) or a fixed batch size",
      ONNX_EXPORT_DEFAULTS.batch,
    )
    .action(async (flags: OnnxFlags) => {
      const options = onnxOptionsOf(flags);
      const summary = await exportOnnxFile(flags.modelDir, flags.out, options);
      console.log(
        `${flags.out}: ${summary.name} from ${summary.modelDir}, ${(summary.bytes / 1e6).toFixed(2)} MB, opset ${options.opset}, batch ${options.batch}`,
      );
    });
}
