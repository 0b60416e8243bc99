/** sasa: stand-alone self-attention vision models for TensorFlow.js. */
export { loadAddon, type NativeAddon, type NativeInfo } from './backend/addon.js';
export {
  type BackendStatus,
  type InitOptions,
  initBackend,
  NATIVE_BACKEND,
  registerNativeBackend,
} from './backend/native.js';
export {
  type AugmentOptions,
  augmentParams,
  type Batch,
  type BatchOptions,
  batchCount,
  batches,
} from './data/batches.js';
export { type CifarOptions, loadCifar, parseCifar } from './data/cifar.js';
export { type AnnotationProblem, GT_BOX_TOLERANCE_PX } from './data/coco/annotation_problems.js';
export type {
  CocoAnnotation,
  CocoBox,
  CocoCategory,
  CocoDetection,
  CocoImage,
  CocoInstances,
} from './data/coco/instances.js';
export {
  type BadAnnotation,
  type BadAnnotationPolicy,
  type InstancesWithBadAnnotations,
  parseCocoDetections,
  parseCocoInstances,
  type ReadInstances,
  type ReadInstancesOptions,
  readCocoDetections,
  readCocoInstances,
} from './data/coco/read.js';
export {
  type ChannelStats,
  channelStats,
  checkShape,
  epochOrder,
  type ImageDataset,
  type ImageSet,
  splitTrainValidation,
  subset,
  withClasses,
} from './data/dataset.js';
export {
  type CategoryMap,
  categoryMap,
  type DetectionImage,
  type DetectionSet,
  type DetectionSetOptions,
  detectionSet,
  type SkippedAnnotation,
  splitDetectionSet,
} from './data/detection/annotations.js';
export {
  type DetectionBatch,
  type DetectionBatchOptions,
  type DetectionSkip,
  detectionBatches,
} from './data/detection/batches.js';
export { decodeImage, decodeRgb, type NormalizeOptions, normalizeRgb, type RgbImage } from './data/detection/decode.js';
export {
  renderScene,
  type Scene,
  type SceneObject,
  SHAPE_CATEGORIES,
  type SizeClass,
  sizeClassOf,
} from './data/detection/shapes/scene.js';
export {
  readShapesManifest,
  SHAPES_DEFAULTS,
  SHAPES_VERSION,
  type ShapesManifest,
  type ShapesOptions,
  type ShapesSplit,
  type ShapesSummary,
  shapesImage,
  writeShapesDataset,
} from './data/detection/shapes/write.js';
export {
  type CocoFiles,
  type DetectionData,
  type DetectionSpec,
  type OpenDetectionOptions,
  openDetectionData,
  parseDetectionSpec,
  shapesCacheDir,
} from './data/detection/spec.js';
export {
  type Boxed,
  type FloatImage,
  flipHorizontal,
  largestScale,
  padImage,
  pickFlip,
  pickScale,
  resizedSize,
  resizeImage,
  resizeShorterSide,
  type ScaleChoice,
  scaleBoxes,
} from './data/detection/transforms.js';
export { type FolderSourceOptions, imageFolderSource } from './data/folder_source.js';
export { type IdxArray, loadIdxImages, loadIdxLabels, loadIdxPair, parseIdx, readIdx } from './data/idx.js';
export {
  type CropOptions,
  type CropRegion,
  decodeImageForEval,
  evalCropFraction,
  evalResizeCrop,
  IMAGE_EXTENSIONS,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ImageFile,
  type ImageFolder,
  type ImageFolderBatch,
  type ImageFolderBatchOptions,
  imageAugmentParams,
  imageFolderBatches,
  type ResizeKernel,
  randomResizedCropRegion,
  type ScanOptions,
  scanImageFolder,
  splitFileList,
} from './data/image_folder.js';
export { memorySource } from './data/memory_source.js';
export { mapLimited, prefetch } from './data/prefetch.js';
export { readMaybeGzip } from './data/read.js';
export type {
  DataBatch,
  DataSource,
  EpochPosition,
  EvalBatchOptions,
  Normalization,
  PrepareOptions,
  SkippedFile,
  Split,
  TrainData,
} from './data/source.js';
export {
  type DataSpec,
  FASHION_MNIST_CLASSES,
  type LoadedData,
  loadData,
  type OpenOptions,
  openData,
  parseDataSpec,
} from './data/spec.js';
export {
  fileLoadHandler,
  fileSaveHandler,
  loadModelFiles,
  MODEL_JSON,
  type ModelMetadata,
  saveModelFiles,
  WEIGHTS_BIN,
} from './io/model_files.js';
export {
  exportOnnx,
  ONNX_EXPORT_DEFAULTS,
  ONNX_INPUT,
  ONNX_OUTPUT,
  type OnnxExportOptions,
  onnxModelOf,
} from './io/onnx/export.js';
export { exportOnnxFile, type OnnxFileSummary } from './io/onnx/model_dir.js';
export {
  readSafetensors,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsInput,
  type SafetensorsTensor,
  writeSafetensors,
} from './io/safetensors.js';
export {
  exportTorchSafetensors,
  fromTorchStateDict,
  importTorchSafetensors,
  torchName,
  toTorchStateDict,
} from './io/torch_names.js';
export {
  AttentionStem,
  type AttentionStemArgs,
  type AttentionStemOptions,
  type StemValues,
} from './layers/attention_stem.js';
export { BatchNorm, type BatchNormArgs, type BatchNormOptions } from './layers/batch_norm.js';
export { Conv2D, type Conv2DArgs } from './layers/conv2d.js';
export {
  LocalSelfAttention2D,
  type LocalSelfAttention2DArgs,
  localSelfAttention2d,
} from './layers/local_self_attention.js';
export { sinusoidalEncoding2d } from './layers/positional_encoding.js';
export { type BuildOptions, buildGroupOutputs, buildModel, modelConfigOf } from './models/builder.js';
export type {
  AttentionConfig,
  ModelConfig,
  ResolvedConfig,
  SpatialOp,
  StemConfig,
  StemType,
} from './models/config.js';
export { resolveConfig } from './models/config.js';
export { type ModelConv, modelConvs } from './models/convs.js';
export { countModel, type LayerCount, type ModelCount } from './models/count.js';
export {
  buildDetector,
  type DetectorBuildOptions,
  type DetectorOutputs,
  detectorConfigOf,
  detectorOutputs,
} from './models/detection/builder.js';
export {
  type BackboneConfig,
  type DetectorConfig,
  type FpnType,
  type PyramidLevel,
  RETINANET_ANCHOR_SIZES,
  type ResolvedDetector,
  resolveDetectorConfig,
} from './models/detection/config.js';
export { countDetector, type DetectorCount } from './models/detection/count.js';
export { createDetector, type DetectorOverrides, detectorConfig, listDetectors } from './models/detection/registry.js';
export { DETECTOR_OUTPUTS, priorBias } from './models/detection/subnets.js';
export { createModel, listModels, modelConfig } from './models/registry.js';
export { STUDIES, type Study, type StudyEntry, studyConfigs } from './models/studies.js';
export { type StemAttentionOptions, stemAttention, stemAttentionReference } from './ops/attention_stem.js';
export { avgPool } from './ops/avg_pool.js';
export { type BatchNormTrainResult, batchNormBlockMax, batchNormTrain } from './ops/batch_norm_train.js';
export { ensureLocalAttentionKernels, localAttention2d } from './ops/local_attention/op.js';
export {
  ATTENTION_DEFAULTS,
  type AttentionLayerOptions,
  LOGITS_MODES,
  type LocalAttentionOptions,
  type LogitsMode,
  MAX_KERNEL_SIZE,
  PADDING_MODES,
  type PaddingMode,
  POSITIONAL_ENCODINGS,
  type PositionalEncoding,
} from './ops/local_attention/options.js';
export { localAttention2dPacked } from './ops/local_attention/packed.js';
export { type SgdUpdateOptions, sgdUpdate } from './ops/sgd_update.js';
export { valueAndGrads } from './ops/value_and_grads.js';
export { type Checkpoint, readCheckpoint, type TrainState } from './tasks/classification/checkpoint.js';
export { WeightAverage } from './tasks/classification/ema.js';
export { evaluate, evaluateBatches, type Metrics, MetricsAccumulator } from './tasks/classification/evaluate.js';
export { smoothedCrossEntropy } from './tasks/classification/loss.js';
export { Sgd } from './tasks/classification/sgd.js';
export { makeTrainStep, type StepOptions } from './tasks/classification/step.js';
export {
  type ClassificationCallback,
  type EpochLogs,
  type StepLogs,
  type TrainBeginLogs,
  type TrainOptions,
  type TrainResult,
  type TrainRun,
  train,
} from './tasks/classification/trainer.js';
export {
  type AnchorSet,
  anchorsPerLocation,
  cellAnchors,
  featureSizes,
  generateAnchors,
  gridAnchors,
} from './tasks/detection/anchors.js';
export { decodeBoxes, decodeBoxesTensor, encodeBoxes } from './tasks/detection/box_coder.js';
export {
  boxAreas,
  boxCount,
  boxIou,
  clipBoxesToImage,
  cocoBoxesToXyxy,
  removeSmallBoxes,
  type Size2,
  xywhToXyxy,
  xyxyToXywh,
} from './tasks/detection/boxes.js';
export type { Accumulated as CocoAccumulated } from './tasks/detection/coco_eval/accumulate.js';
export { type CocoEvaluation, cocoEvaluate } from './tasks/detection/coco_eval/evaluate.js';
export { type AreaRange, COCO_EVAL_DEFAULTS, type CocoEvalParams } from './tasks/detection/coco_eval/params.js';
export {
  averagePrCurves,
  type CategoryAp,
  SUMMARY_ITEMS,
  type SummaryItem,
  summaryLines,
  summaryStats,
} from './tasks/detection/coco_eval/summarize.js';
export { type BatchImages, toCocoDetections } from './tasks/detection/coco_results.js';
export {
  type AnchorConfig,
  anchorsOfSizes,
  type BoxCoderConfig,
  type DetectionConfig,
  type FocalLossConfig,
  type MatcherConfig,
  type NmsConfig,
  octaveSizes,
  RETINANET_ANCHORS,
  RETINANET_BOX_CODER,
  RETINANET_DETECTIONS,
  RETINANET_FOCAL_LOSS,
  RETINANET_MATCHER,
  RETINANET_NMS,
} from './tasks/detection/config.js';
export { sigmoidFocalLoss, sigmoidFocalLossOfClasses, weightedFocalLoss } from './tasks/detection/focal_loss.js';
export { type DetectionTarget, outputsShape, type RetinaNetOutputs } from './tasks/detection/head_outputs.js';
export { type LossTargets, retinaNetTargets, type TargetOptions } from './tasks/detection/loss_targets.js';
export { BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, matchAnchors, matchQuality } from './tasks/detection/matcher.js';
export { batchedNms, nms } from './tasks/detection/nms.js';
export {
  type Detections,
  detectImage,
  type ImageOutputs,
  type PostprocessOptions,
  postprocessDetections,
} from './tasks/detection/postprocess.js';
export { RetinaNet, type RetinaNetParts, retinaNetOf } from './tasks/detection/retinanet.js';
export { type RetinaNetLosses, type RetinaNetLossOptions, retinaNetLoss } from './tasks/detection/retinanet_loss.js';
export { CallbackList, type TrainingCallback } from './tasks/training/callbacks.js';
export { DivergedError } from './tasks/training/nan_stop.js';
export { learningRate, type Schedule } from './tasks/training/schedule.js';
export {
  type Bar,
  type BarPlotOptions,
  barPlot,
  type Chart,
  type ConfusionMatrixOptions,
  confusionMatrixPlot,
  type LinePlotOptions,
  linePlot,
  type Rgb,
  renderPng,
  renderSvg,
  type Series,
  writePng,
} from './viz/plots.js';
