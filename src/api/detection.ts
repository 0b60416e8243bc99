/**
 * `sasa/detection`: object detection. RetinaNet detectors as data (createDetector, listDetectors), COCO
 * data and the generated shapes set, box operations, anchors, matching, focal loss, post-processing
 * and COCO evaluation as pycocotools computes it.
 * @module sasa/detection
 */
export { type AnnotationProblem, GT_BOX_TOLERANCE_PX } from '../data/coco/annotation_problems.js';
export type {
  CocoAnnotation,
  CocoBox,
  CocoCategory,
  CocoDetection,
  CocoImage,
  CocoInstances,
} from '../data/coco/instances.js';
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
} from '../data/coco/read.js';
export {
  type CategoryMap,
  categoryMap,
  type DetectionImage,
  type DetectionSet,
  type DetectionSetOptions,
  detectionSet,
  type SkippedAnnotation,
  splitDetectionSet,
} from '../data/detection/annotations.js';
export {
  type DetectionBatch,
  type DetectionBatchOptions,
  type DetectionSkip,
  detectionBatches,
} from '../data/detection/batches.js';
export {
  decodeImage,
  decodeRgb,
  type NormalizeOptions,
  normalizeRgb,
  type RgbImage,
} from '../data/detection/decode.js';
export {
  renderScene,
  type Scene,
  type SceneObject,
  SHAPE_CATEGORIES,
  type SizeClass,
  sizeClassOf,
} from '../data/detection/shapes/scene.js';
export {
  readShapesManifest,
  SHAPES_DEFAULTS,
  SHAPES_SPLITS,
  SHAPES_VERSION,
  type ShapesManifest,
  type ShapesOptions,
  type ShapesSplit,
  type ShapesSummary,
  shapesImage,
  writeShapesDataset,
} from '../data/detection/shapes/write.js';
export {
  type CocoFiles,
  type DetectionData,
  type DetectionSpec,
  type OpenDetectionOptions,
  openDetectionData,
  parseDetectionSpec,
  shapesCacheDir,
} from '../data/detection/spec.js';
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
} from '../data/detection/transforms.js';
export {
  buildDetector,
  type DetectorBuildOptions,
  type DetectorOutputs,
  detectorConfigOf,
  detectorOutputs,
} from '../models/detection/builder.js';
export {
  type BackboneConfig,
  type DetectorConfig,
  type FpnType,
  type PyramidLevel,
  RETINANET_ANCHOR_SIZES,
  type ResolvedDetector,
  resolveDetectorConfig,
} from '../models/detection/config.js';
export { countDetector, type DetectorCount } from '../models/detection/count.js';
export { createDetector, type DetectorOverrides, detectorConfig, listDetectors } from '../models/detection/registry.js';
export { DETECTOR_OUTPUTS, priorBias } from '../models/detection/subnets.js';
export {
  type AnchorSet,
  anchorsPerLocation,
  cellAnchors,
  featureSizes,
  generateAnchors,
  gridAnchors,
} from '../tasks/detection/anchors.js';
export { decodeBoxes, decodeBoxesTensor, encodeBoxes } from '../tasks/detection/box_coder.js';
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
} from '../tasks/detection/boxes.js';
export type { Accumulated as CocoAccumulated } from '../tasks/detection/coco_eval/accumulate.js';
export { type CocoEvaluation, cocoEvaluate } from '../tasks/detection/coco_eval/evaluate.js';
export { type AreaRange, COCO_EVAL_DEFAULTS, type CocoEvalParams } from '../tasks/detection/coco_eval/params.js';
export {
  averagePrCurves,
  type CategoryAp,
  SUMMARY_ITEMS,
  type SummaryItem,
  summaryLines,
  summaryStats,
} from '../tasks/detection/coco_eval/summarize.js';
export { type BatchImages, toCocoDetections } from '../tasks/detection/coco_results.js';
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
} from '../tasks/detection/config.js';
export { sigmoidFocalLoss, sigmoidFocalLossOfClasses, weightedFocalLoss } from '../tasks/detection/focal_loss.js';
export { type DetectionTarget, outputsShape, type RetinaNetOutputs } from '../tasks/detection/head_outputs.js';
export { type LossTargets, retinaNetTargets, type TargetOptions } from '../tasks/detection/loss_targets.js';
export { BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, matchAnchors, matchQuality } from '../tasks/detection/matcher.js';
export { batchedNms, nms } from '../tasks/detection/nms.js';
export {
  type Detections,
  detectImage,
  type ImageOutputs,
  type PostprocessOptions,
  postprocessDetections,
} from '../tasks/detection/postprocess.js';
export { RetinaNet, type RetinaNetParts, retinaNetOf } from '../tasks/detection/retinanet.js';
export { type RetinaNetLosses, type RetinaNetLossOptions, retinaNetLoss } from '../tasks/detection/retinanet_loss.js';
