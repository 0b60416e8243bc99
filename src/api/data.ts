/**
 * `sasa/data`: image-classification data without tensors: IDX (Fashion-MNIST, MNIST), CIFAR, image
 * folders; data specs (loadData, openData), datasets, splits and normalised batches.
 * @module sasa/data
 */
export {
  type AugmentOptions,
  augmentParams,
  type Batch,
  type BatchOptions,
  batchCount,
  batches,
} from '../data/batches.js';
export { type CifarOptions, loadCifar, parseCifar } from '../data/cifar.js';
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
} from '../data/dataset.js';
export { type FolderSourceOptions, imageFolderSource } from '../data/folder_source.js';
export { type IdxArray, loadIdxImages, loadIdxLabels, loadIdxPair, parseIdx, readIdx } from '../data/idx.js';
export { decodeImageForEval, type ResizeKernel } from '../data/image_folder/decode.js';
export {
  IMAGE_EXTENSIONS,
  type ImageFile,
  type ImageFolder,
  type ScanOptions,
  scanImageFolder,
  splitFileList,
} from '../data/image_folder/scan.js';
export {
  type ImageFolderBatch,
  type ImageFolderBatchOptions,
  imageFolderBatches,
} from '../data/image_folder/stream.js';
export {
  type CropOptions,
  type CropRegion,
  evalCropFraction,
  evalResizeCrop,
  IMAGENET_MEAN,
  IMAGENET_STD,
  imageAugmentParams,
  randomResizedCropRegion,
} from '../data/image_folder/transforms.js';
export { memorySource } from '../data/memory_source.js';
export { mapLimited, prefetch } from '../data/prefetch.js';
export { readMaybeGzip } from '../data/read.js';
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
} from '../data/source.js';
export {
  type DataSpec,
  FASHION_MNIST_CLASSES,
  type LoadedData,
  loadData,
  type OpenOptions,
  openData,
  parseDataSpec,
} from '../data/spec.js';
