/**
 * `sasa/node`: what needs Node.js. The native oneDNN backend (initBackend picks it when the addon
 * loads, else tfjs's CPU backend), model files (tfjs model.json + weights.bin, atomically), the
 * `file://` scheme for `model.save` / `tf.loadLayersModel` (registered on import, as tfjs-node does),
 * safetensors with PyTorch names, and ONNX export.
 *
 * Bundling this entry for a browser fails at build time: its "browser" export condition points at
 * node.browser.ts, which imports a module that does not exist and says why.
 * @module sasa/node
 */
import { registerFileRouter } from '../io/file_router.js';

export type { NativeInfo } from '../backend/addon.js';
export {
  type BackendStatus,
  type InitOptions,
  initBackend,
  NATIVE_BACKEND,
} from '../backend/native.js';
export { FILE_SCHEME, registerFileRouter } from '../io/file_router.js';
export {
  fileLoadHandler,
  fileSaveHandler,
  loadModelFiles,
  MODEL_JSON,
  type ModelMetadata,
  saveModelFiles,
  WEIGHTS_BIN,
} from '../io/model_files.js';
export {
  exportOnnx,
  ONNX_EXPORT_DEFAULTS,
  ONNX_INPUT,
  ONNX_OUTPUT,
  type OnnxExportOptions,
} from '../io/onnx/export.js';
export { exportOnnxFile, type OnnxFileSummary } from '../io/onnx/model_dir.js';
export {
  readSafetensors,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsInput,
  type SafetensorsTensor,
  writeSafetensors,
} from '../io/safetensors.js';
export {
  exportTorchSafetensors,
  fromTorchStateDict,
  importTorchSafetensors,
  type NamedArray,
  torchName,
  toTorchStateDict,
} from '../io/torch_names.js';

registerFileRouter();

export type { Normalization, RankedClass } from '../tasks/classification/model_input.js';
export {
  type ImageInput,
  imageInput,
  loadTrainedModel,
  type Prediction,
  predictFile,
  type TrainedModel,
} from '../tasks/classification/trained_model.js';
