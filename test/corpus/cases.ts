/**
 * The bad-input corpus as data: one row per malformed input or fault. `args` is a `sasa` command line
 * and `names` what its error must name (the file, field or option at fault, and the fault in words);
 * `{key}` stands for the path fixtures.ts wrote under that key. Every case must exit 1 with
 * `sasa: error: …` lines naming all of `names`, print no stack trace, and leave the corpus as it was.
 */

export interface CorpusCase {
  id: string;
  /** The README table's section. */
  group: string;
  /** The command line after `sasa`, with `{key}` placeholders. */
  args: string[];
  /** Substrings of the error output (placeholders allowed). */
  names: string[];
  env?: Record<string, string>;
  /** Needs the full and read-only file systems (mounts.ts). */
  mounts?: true;
}

/** The tiny classifier's flags, shown as `$TINY` in the README table. */
export const TINY = ['--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1'];
/** `sasa train` of the tiny classifier, shown as `$TRAIN`. */
export const TRAIN = ['train', ...TINY, '--epochs', '1', '--batch-size', '8'];
/** The good IDX data, shown as `$IDX`. */
export const IDX = 'idx:{trainImages},{trainLabels},{testImages},{testLabels}';
const OUT = '{scratch}/run';
const train = (data: string, ...more: string[]) => [...TRAIN, '--data', data, '--out', OUT, ...more];
const trainIdx = (...more: string[]) => train(IDX, ...more);
const images = (imagesPath: string, labels = '{trainLabels}') => `idx:${imagesPath},${labels}`;
const resume = (...more: string[]) => ['train', '--data', IDX, '--out', '{runCopy}', '--resume', ...more];
const predict = (model: string, ...files: string[]) => ['predict', '--model-dir', model, ...files];
const coco = (gt: string, dt = '{dt}') => ['coco-eval', '--gt', gt, '--dt', dt];
const detectTrain = (data: string, ...more: string[]) => [
  ...['detect', 'train', '--data', data, '--out', OUT, '--epochs', '1', '--batch-size', '2', '--size', '128'],
  ...more,
];
const SHAPES = 'shapes:{shapes}';

const args: CorpusCase[] = [
  ['args-epochs-zero', trainIdx('--epochs', '0'), ['--epochs', 'positive integer', "'0'"]],
  ['args-epochs-fraction', trainIdx('--epochs', '1.5'), ['--epochs', 'positive integer', "'1.5'"]],
  ['args-batch-word', trainIdx('--batch-size', 'eight'), ['--batch-size', "'eight'"]],
  ['args-lr-negative', trainIdx('--lr', '-1'), ['--lr', 'positive number', "'-1'"]],
  ['args-lr-nan', trainIdx('--lr', 'NaN'), ['--lr', 'positive number', "'NaN'"]],
  ['args-lr-infinite', trainIdx('--lr', 'Infinity'), ['--lr', "'Infinity'"]],
  ['args-momentum', trainIdx('--momentum', '1.5'), ['--momentum', '[0, 1)', "'1.5'"]],
  ['args-validation-one', trainIdx('--validation', '1'), ['--validation', "'1'"]],
  ['args-seed-negative', trainIdx('--seed', '-3'), ['--seed', 'non-negative integer', "'-3'"]],
  ['args-warmup-negative', trainIdx('--warmup-epochs', '-1'), ['--warmup-epochs', "'-1'"]],
  ['args-checkpoint-zero', trainIdx('--checkpoint-every', '0'), ['--checkpoint-every', "'0'"]],
  ['args-ema-one', trainIdx('--ema-decay', '1'), ['--ema-decay', "'1'"]],
  ['args-k-even', trainIdx('--k', '4'), ['--k', 'odd', '4']],
  ['args-k-large', trainIdx('--k', '33'), ['--k', '33']],
  ['args-heads-zero', trainIdx('--heads', '0'), ['--heads', "'0'"]],
  ['args-heads-indivisible', train(IDX, '--model', 'sasa_resnet26', '--heads', '3'), ['--heads', '3']],
  ['args-stem', trainIdx('--stem', 'pyramid'), ['--stem', 'small_attention', "'pyramid'"]],
  ['args-positional', trainIdx('--positional', 'rotary'), ['--positional', "'rotary'"]],
  ['args-logits', trainIdx('--logits', 'kq'), ['--logits', "'kq'"]],
  ['args-model-unknown', train(IDX, '--model', 'resnet9000'), ['resnet9000']],
  ['args-blocks-two', trainIdx('--blocks', '1,1'), ['--blocks', '4 comma-separated', 'got 2']],
  ['args-blocks-zero', trainIdx('--blocks', '1,0,1,1'), ['--blocks', "'0'"]],
  ['args-width-zero', trainIdx('--width-multiplier', '0'), ['--width-multiplier', "'0'"]],
  ['args-bn-decay', trainIdx('--bn-decay', '2'), ['--bn-decay', '2']],
  ['args-backend', trainIdx('--backend', 'gpu'), ['--backend', 'native, cpu', "'gpu'"]],
  ['args-backend-env', trainIdx(), ['SASA_BACKEND=gpu', 'native, cpu'], { SASA_BACKEND: 'gpu' }],
  ['args-unknown-option', trainIdx('--learning-rate', '0.1'), ["unknown option '--learning-rate'"]],
  ['args-no-out', [...TRAIN, '--data', IDX], ["'--out <dir>'", 'not specified']],
  ['args-unknown-command', ['trian', '--data', IDX], ["unknown command 'trian'"]],
  ['args-data-kind', train('mnist-fashion:{root}'), ["--data 'mnist-fashion:", 'not a known data source']],
  ['args-data-idx-count', train('idx:{trainImages}'), ['--data', 'idx takes 2 or 4', 'got 1']],
  ['args-data-no-dir', train('cifar10'), ["--data 'cifar10'", 'needs DIR']],
  ['args-image-size-idx', trainIdx('--image-size', '16'), ['--image-size 16', 'not resized']],
  ['args-predict-top', [...predict('{model}', '{imageGood}'), '--top', '0'], ['--top', "'0'"]],
  ['args-eval-split', ['eval', '--model-dir', '{model}', '--data', IDX, '--split', 'val'], ['--split', "'val'"]],
  [
    'args-export-opset',
    ['export', 'onnx', '--model-dir', '{model}', '--out', '{scratch}/m.onnx', '--opset', '7'],
    ['--opset', "'7'"],
  ],
  [
    'args-export-batch',
    ['export', 'onnx', '--model-dir', '{model}', '--out', '{scratch}/m.onnx', '--batch', '0'],
    ['--batch', "'0'"],
  ],
  ['args-table-study', ['table', '--study', 'resnet'], ['--study', "'resnet'"]],
  ['args-bench-shape', ['bench', 'attention', '--shape', '1,8,8'], ['--shape', '4 positive integers', "'1,8,8'"]],
  ['args-ablate-study', ['ablate', '--study', 'nope', '--data', IDX, '--out', OUT], ['--study', "'nope'"]],
  ['args-shapes-size', ['shapes', '--out', '{scratch}/shapes', '--size', '8'], ['size', '16']],
  ['args-shapes-out-file', ['shapes', '--out', '{aFile}', '--train', '1', '--val', '1'], ['{aFile}']],
].map(
  ([id, a, names, env]) =>
    ({ id, group: 'command-line arguments', args: a, names, ...(env ? { env } : {}) }) as CorpusCase,
);

const resumeCases: CorpusCase[] = [
  [
    'resume-no-checkpoint',
    ['train', '--data', IDX, '--out', '{emptyOut}', '--resume'],
    ['--resume', '{emptyOut}', 'checkpoint.safetensors'],
  ],
  [
    'resume-no-folder',
    ['train', '--data', IDX, '--out', '{missingOut}', '--resume'],
    ['--resume', '{missingOut}', 'does not exist'],
  ],
  ['resume-model', resume('--model', 'sasa_resnet26'), ['--model', 'resnet26', 'sasa_resnet26']],
  [
    'resume-width',
    resume('--width-multiplier', '0.25'),
    ['--resume cannot change --model', "asked 'resnet26'", '8 → 16'],
  ],
  ['resume-data', ['train', '--data', 'idx:{threeImages},{threeLabels}', '--out', '{runCopy}', '--resume'], ['--data']],
  ['resume-batch', resume('--batch-size', '4'), ['--batch-size', '8', '4']],
  ['resume-seed', resume('--seed', '5'), ['--seed', '5']],
  ['resume-validation', resume('--validation', '0.5'), ['--validation', '0.5']],
  ['resume-augment', resume('--no-augment'), ['--no-augment']],
  ['resume-ema', resume('--ema-decay', '0.5'), ['--ema-decay', '0.5']],
  ['resume-epochs-bad', resume('--epochs', '0'), ['--epochs', "'0'"]],
  [
    'resume-finished-run',
    trainIdx().map((a) => (a === OUT ? '{run}' : a)),
    ['--out {run}', 'already holds a training run', '--resume'],
  ],
  [
    'detect-resume-no-checkpoint',
    detectTrain(SHAPES, '--resume').map((a) => (a === OUT ? '{emptyOut}' : a)),
    ['--resume', '{emptyOut}'],
  ],
].map(([id, a, names]) => ({ id, group: '--resume', args: a, names }) as CorpusCase);

const idxCases: CorpusCase[] = [
  ['idx-missing', train(images('{missing}')), ['{missing}', 'no such file']],
  ['idx-empty', train(images('{empty}')), ['{empty}', 'truncated IDX header', '0 bytes']],
  ['idx-bad-magic', train(images('{badMagic}')), ['{badMagic}', 'not an IDX file']],
  ['idx-float-dtype', train(images('{floatDtype}')), ['{floatDtype}', 'dtype byte 0x0d']],
  [
    'idx-labels-for-images',
    train(images('{trainLabels}', '{trainLabels}')),
    ['{trainLabels}', 'wrong IDX magic', '1 dimensions, expected 3'],
  ],
  ['idx-truncated', train(images('{truncated}')), ['{truncated}', 'truncated', 'found']],
  ['idx-trailing', train(images('{trailing}')), ['{trailing}', '5 bytes after the data']],
  ['idx-short-header', train(images('{shortHeader}')), ['{shortHeader}', 'truncated IDX header']],
  [
    'idx-fewer-labels',
    train(images('{trainImages}', '{fewerLabels}')),
    ['{trainImages} has 32 images', '{fewerLabels} has 31 labels'],
  ],
  ['idx-zero-images', train(images('{zeroImages}', '{zeroLabels}')), ['{zeroImages}', 'holds no images']],
  ['idx-one-class', train(images('{trainImages}', '{oneClassLabels}')), ['{oneClassLabels}', 'at least 2 classes']],
  ['idx-gz-corrupt', train(images('{gzCorrupt}')), ['{gzCorrupt}', 'gzip']],
  ['idx-gz-truncated', train(images('{gzTruncated}')), ['{gzTruncated}', 'gzip']],
  ['idx-folder', train(images('{aFolder}')), ['{aFolder}', 'folder']],
  ['idx-dangling-link', train(images('{dangling}')), ['{dangling}', 'no such file']],
  ['idx-link-loop', train(images('{loop}')), ['{loop}', 'symbolic links']],
  [
    'idx-test-size',
    train('idx:{trainImages},{trainLabels},{largerImages},{largerLabels}'),
    ['{largerImages}', 'test images are 10×10', '8×8'],
  ],
  ['idx-fashion-missing-file', train('fashion-mnist:{fashionMissing}'), ['{fashionMissingFile}', 'no such file']],
  ['idx-fashion-label-12', train('fashion-mnist:{fashionLabel12}'), ['{fashionLabel12}', 'label 12']],
  [
    'idx-fashion-truncated-gz',
    train('fashion-mnist:{fashionTruncatedGz}'),
    ['{fashionTruncatedGz}/train-images-idx3-ubyte.gz', 'gzip'],
  ],
  ['idx-mnist-no-folder', train('mnist:{root}/no-such-folder'), ['{root}/no-such-folder', 'no such file']],
].map(([id, a, names]) => ({ id, group: 'IDX and Fashion-MNIST files', args: a, names }) as CorpusCase);

const cifarCases: CorpusCase[] = [
  [
    'cifar10-missing-batch',
    train('cifar10:{cifar10MissingBatch}'),
    ['{cifar10MissingBatch}/data_batch_3.bin', 'no such file'],
  ],
  [
    'cifar10-ragged',
    train('cifar10:{cifar10Ragged}'),
    ['{cifar10Ragged}/data_batch_2.bin', 'not a whole number', '3073'],
  ],
  ['cifar10-label-10', train('cifar10:{cifar10Label10}'), ['{cifar10Label10}/test_batch.bin', 'record 1', 'label 10']],
  ['cifar10-empty', train('cifar10:{cifar10Empty}'), ['{cifar10Empty}/data_batch_1.bin', '0 bytes']],
  ['cifar100-fine-label', train('cifar100:{cifar100FineLabel}'), ['{cifar100FineLabel}/train.bin', 'fine label 100']],
  [
    'cifar100-coarse-label',
    train('cifar100:{cifar100CoarseLabel}'),
    ['{cifar100CoarseLabel}/train.bin', 'coarse label 20'],
  ],
  ['cifar100-no-test', train('cifar100:{cifar100NoTest}'), ['{cifar100NoTest}/test.bin', 'no such file']],
  [
    'cifar100-as-cifar10',
    train('cifar10:{cifar100GivenAs10}'),
    ['{cifar100GivenAs10}/data_batch_1.bin', 'no such file'],
  ],
].map(([id, a, names]) => ({ id, group: 'CIFAR binaries', args: a, names }) as CorpusCase);

const folder = (dir: string, ...more: string[]) =>
  train(`folder:${dir}`, '--image-size', '16', '--batch-size', '2', ...more);
const folderCases: CorpusCase[] = [
  ['folder-missing', folder('{folderMissing}'), ['{folderMissing}', 'no such']],
  ['folder-is-file', folder('{folderIsFile}'), ['{folderIsFile}', 'not a folder']],
  ['folder-empty', folder('{folderEmpty}'), ['{folderEmpty}', 'class']],
  ['folder-one-class', folder('{folderOneClass}'), ['{folderOneClass}', 'at least 2 classes']],
  ['folder-empty-classes', folder('{folderEmptyClasses}'), ['{folderEmptyClasses}', 'image']],
  ['folder-all-unreadable', folder('{folderAllBad}'), ['{folderAllBad}']],
  ['folder-split-classes', folder('{folderSplits}'), ['{folderSplits}', 'cyan']],
  ['folder-crc-strict', folder('{folderCrc}', '--strict'), ['{folderCrc}/green/crc.png', 'corrupt or truncated image']],
  [
    'folder-truncated-jpeg-strict',
    folder('{folderCut}', '--strict'),
    ['{folderCut}/green/cut.jpg', 'corrupt or truncated image'],
  ],
  [
    'folder-gif-strict',
    folder('{folderGif}', '--strict'),
    ['{folderGif}/green/gif.png', 'a GIF image, not JPEG or PNG'],
  ],
  ['folder-empty-file-strict', folder('{folderZero}', '--strict'), ['{folderZero}/green/zero.png']],
  ['folder-dangling-strict', folder('{folderDangling}', '--strict'), ['{folderDanglingImage}']],
  ['folder-link-loop', folder('{folderLooped}'), ['{folderLoopLink}', 'is the folder {folderLooped} again']],
  [
    'eval-folder-other-classes',
    ['eval', '--model-dir', '{model}', '--data', 'folder:{folderGood}'],
    ['--data folder:{folderGood}', 'images are 8×8×3', 'the model takes 8×8×1'],
  ],
].map(([id, a, names]) => ({ id, group: 'image folders', args: a, names }) as CorpusCase);

const modelCases: CorpusCase[] = [
  ['model-missing', predict('{modelMissing}', '{imageGood}'), ['{modelMissing}', 'no such model directory']],
  ['model-dir-is-file', predict('{modelDirIsFile}', '{imageGood}'), ['{modelDirIsFile}']],
  ['model-dir-loop', predict('{modelLoop}', '{imageGood}'), ['{modelLoop}', 'symbolic links']],
  ['model-no-json', predict('{modelNoJson}', '{imageGood}'), ['{modelNoJson}', 'model.json']],
  ['model-json-folder', predict('{modelJsonIsFolder}', '{imageGood}'), ['{modelJsonIsFolder}/model.json']],
  ['model-no-weights', predict('{modelNoWeights}', '{imageGood}'), ['{modelNoWeights}/weights.bin', 'no such file']],
  ['model-json-truncated', predict('{modelJsonTruncated}', '{imageGood}'), ['{modelJsonTruncated}/model.json', 'JSON']],
  [
    'model-unknown-layer',
    predict('{modelUnknownLayer}', '{imageGood}'),
    ['{modelUnknownLayer}/model.json', 'FancyAttention3000'],
  ],
  [
    'model-three-classes',
    predict('{modelThreeClasses}', '{imageGood}'),
    ['{modelThreeClasses}/model.json', 'names 3 classes', '2 outputs'],
  ],
  [
    'model-three-classes-eval',
    ['eval', '--model-dir', '{modelThreeClasses}', '--data', IDX],
    ['{modelThreeClasses}/model.json', 'names 3 classes'],
  ],
  ['model-no-metadata', predict('{modelNoMetadata}', '{imageGood}'), ['{modelNoMetadata}', 'metadata']],
  ['model-nan-weights', predict('{modelNaN}', '{imageGood}'), ['{modelNaN}/weights.bin', 'NaN or infinite']],
  [
    'model-nan-weights-eval',
    ['eval', '--model-dir', '{modelNaN}', '--data', IDX],
    ['{modelNaN}/weights.bin', 'NaN or infinite'],
  ],
  ['model-shape-changed', predict('{modelShape}', '{imageGood}'), ['{modelShape}/model.json', "a weight's shape"]],
  ['model-short-weights', predict('{modelShortWeights}', '{imageGood}'), ['{modelShortWeights}/weights.bin']],
  ['model-long-weights', predict('{modelLongWeights}', '{imageGood}'), ['{modelLongWeights}/weights.bin']],
  [
    'export-no-weights',
    ['export', 'onnx', '--model-dir', '{modelNoWeights}', '--out', '{scratch}/m.onnx'],
    ['{modelNoWeights}/weights.bin'],
  ],
  [
    'export-missing-model',
    ['export', 'onnx', '--model-dir', '{modelMissing}', '--out', '{scratch}/m.onnx'],
    ['{modelMissing}'],
  ],
  [
    'eval-other-size',
    ['eval', '--model-dir', '{model}', '--data', 'idx:{largerImages},{largerLabels},{largerImages},{largerLabels}'],
    ['--data', '10×10×1', '8×8×1'],
  ],
  [
    'eval-other-classes',
    ['eval', '--model-dir', '{model}', '--data', 'idx:{threeImages},{threeLabels},{threeImages},{threeLabels}'],
    ['--data', '3 classes', 'the model 2'],
  ],
  ['eval-no-data', ['eval', '--model-dir', '{model}'], ['--data is needed']],
].map(([id, a, names]) => ({ id, group: 'model folders', args: a, names }) as CorpusCase);

const predictCases: CorpusCase[] = [
  ['predict-missing-image', predict('{model}', '{imageMissing}'), ['{imageMissing}', 'no such file']],
  ['predict-crc', predict('{model}', '{imageGood}', '{imageCrc}', '{imageGood}'), ['{imageCrc}', 'CRC']],
  ['predict-truncated-jpeg', predict('{model}', '{imageCut}'), ['{imageCut}', 'premature end of JPEG']],
  ['predict-gif', predict('{model}', '{imageGif}'), ['{imageGif}', 'a GIF image, not JPEG or PNG']],
  ['predict-empty-file', predict('{model}', '{imageZero}'), ['{imageZero}']],
  ['predict-text-file', predict('{model}', '{imageText}'), ['{imageText}']],
  ['predict-folder', predict('{model}', '{root}'), ['{root}', 'folder']],
  ['predict-dangling-link', predict('{model}', '{imageDangling}'), ['{imageDangling}', 'no such file']],
].map(([id, a, names]) => ({ id, group: 'images to predict', args: a, names }) as CorpusCase);

const checkpointCases: CorpusCase[] = [
  ['checkpoint-truncated', '{ckTruncated}', ['{ckTruncated}/checkpoint.safetensors', 'truncated']],
  ['checkpoint-empty', '{ckEmpty}', ['{ckEmpty}/checkpoint.safetensors']],
  ['checkpoint-huge-header', '{ckHugeHeader}', ['{ckHugeHeader}/checkpoint.safetensors', 'header']],
  ['checkpoint-header-not-json', '{ckHeaderNotJson}', ['{ckHeaderNotJson}/checkpoint.safetensors', 'header']],
  ['checkpoint-no-state', '{ckNoState}', ['{ckNoState}/checkpoint.safetensors', "no 'sasa' metadata"]],
  ['checkpoint-other-model', '{ckOtherModel}', ['{ckOtherModel}/checkpoint.safetensors', 'another model']],
  ['checkpoint-is-folder', '{ckFolder}', ['{ckFolder}/checkpoint.safetensors', 'folder']],
].map(
  ([id, dir, names]) =>
    ({ id, group: 'checkpoints', args: ['train', '--data', IDX, '--out', dir, '--resume'], names }) as CorpusCase,
);

const cocoCases: CorpusCase[] = [
  ['coco-gt-missing', coco('{gtMissing}'), ['{gtMissing}', 'no such file']],
  ['coco-gt-not-json', coco('{gtNotJson}'), ['{gtNotJson}', 'line 2']],
  ['coco-gt-truncated', coco('{gtTruncated}'), ['{gtTruncated}', 'JSON']],
  ['coco-gt-empty', coco('{gtEmpty}'), ['{gtEmpty}']],
  ['coco-gt-no-images', coco('{gtNoImages}'), ['{gtNoImages}', 'images']],
  ['coco-gt-negative-width', coco('{gtNegativeWidth}'), ['{gtNegativeWidth}', 'annotations[1]', 'bbox']],
  ['coco-gt-duplicate-image', coco('{gtDuplicateImage}'), ['{gtDuplicateImage}', 'images[1]', 'id 1']],
  ['coco-gt-unknown-category', coco('{gtUnknownCategory}'), ['{gtUnknownCategory}', 'annotations[0]', 'category_id']],
  ['coco-gt-unknown-image', coco('{gtUnknownImage}'), ['{gtUnknownImage}', 'annotations[0]', 'image_id']],
  ['coco-gt-string-bbox', coco('{gtStringBbox}'), ['{gtStringBbox}', 'annotations[0]', 'bbox']],
  ['coco-dt-three-numbers', coco('{gt}', '{dtThreeNumbers}'), ['{dtThreeNumbers}', 'bbox']],
  ['coco-dt-unknown-image', coco('{gt}', '{dtUnknownImage}'), ['{dtUnknownImage}', 'image_id', '42']],
  ['coco-dt-unknown-category', coco('{gt}', '{dtUnknownCategory}'), ['{dtUnknownCategory}', 'category_id', '9']],
  ['coco-dt-negative-score', coco('{gt}', '{dtNegativeScore}'), ['{dtNegativeScore}', 'score']],
  ['coco-dt-null-score', coco('{gt}', '{dtNullScore}'), ['{dtNullScore}', 'score']],
  ['coco-dt-not-list', coco('{gt}', '{dtNotList}'), ['{dtNotList}']],
  [
    'coco-plot-no-gt',
    [...coco('{gtNoAnnotations}'), '--plot', '{scratch}/pr.png'],
    ['--plot', 'no category has ground truth'],
  ],
].map(([id, a, names]) => ({ id, group: 'COCO files', args: a, names }) as CorpusCase);

const detectCases: CorpusCase[] = [
  ['detect-coco-missing', detectTrain('coco:{gtMissing},{shapesImages}'), ['{gtMissing}', 'no such file']],
  ['detect-coco-spec', detectTrain('coco:{gt}'), ['coco takes ANNOTATIONS.json,IMAGES_DIR']],
  [
    'detect-coco-bad-box-strict',
    detectTrain('coco:{cocoBadBox},{shapesImages}', '--strict'),
    ['{cocoBadBox}', 'annotations[0]', 'bbox'],
  ],
  [
    'detect-coco-missing-image-strict',
    detectTrain('coco:{cocoMissingImage},{shapesImages}', '--strict'),
    ['no-such.png'],
  ],
  [
    'detect-voc-no-instances',
    detectTrain('voc100:{vocNoInstances}'),
    ['{vocNoInstances}/instances.json', 'no such file'],
  ],
  [
    'detect-shapes-incomplete',
    detectTrain('shapes:{shapesIncomplete}'),
    ['{shapesIncomplete}', 'not a complete shapes output'],
  ],
  ['detect-data-kind', detectTrain('pascal:{root}'), ["'pascal:", 'not a known detection data source']],
  [
    'detect-model-and-backbone',
    detectTrain(SHAPES, '--model', 'retinanet_demo', '--backbone', 'resnet26'),
    ['--model', '--backbone', 'not both'],
  ],
  ['detect-model-unknown', detectTrain(SHAPES, '--model', 'yolo'), ['--model', "'yolo'"]],
  ['detect-size', detectTrain(SHAPES, '--size', '200'), ['--size', 'multiple of 128']],
  ['detect-fpn', detectTrain(SHAPES, '--fpn', 'dense'), ['--fpn', "'dense'"]],
  ['detect-heads', detectTrain(SHAPES, '--heads', 'mlp'), ['--heads', "'mlp'"]],
  ['detect-attention-logits', detectTrain(SHAPES, '--attention-logits', 'qv'), ['--attention-logits', "'qv'"]],
  ['detect-momentum-word', detectTrain(SHAPES, '--momentum', 'high'), ['--momentum', "'high'"]],
  ['detect-warmup-negative', detectTrain(SHAPES, '--warmup-epochs', '-1'), ['--warmup-epochs', "'-1'"]],
  ['detect-weight-decay-word', detectTrain(SHAPES, '--weight-decay', 'x'), ['--weight-decay', "'x'"]],
  ['detect-clip-negative', detectTrain(SHAPES, '--clip-norm', '-1'), ['--clip-norm', "'-1'"]],
  ['detect-optimizer', detectTrain(SHAPES, '--optimizer', 'adam'), ['--optimizer', "'adam'"]],
  [
    'detect-adamw-momentum',
    detectTrain(SHAPES, '--optimizer', 'adamw', '--momentum', '0.8'),
    ['--momentum', '--optimizer adamw'],
  ],
  [
    'detect-backbone-weights-missing',
    detectTrain(SHAPES, '--backbone-weights', '{modelMissing}'),
    ['--backbone-weights', '{modelMissing}'],
  ],
  [
    'detect-eval-missing-model',
    ['detect', 'eval', '--model-dir', '{detectorMissing}', '--data', SHAPES],
    ['{detectorMissing}'],
  ],
  [
    'detect-eval-classifier',
    ['detect', 'eval', '--model-dir', '{model}', '--data', SHAPES],
    ['{model}', 'not a detector'],
  ],
  [
    'detect-eval-other-categories',
    ['detect', 'eval', '--model-dir', '{detector}', '--data', 'coco:{gt},{shapesImages}'],
    ['--data', 'category ids'],
  ],
  [
    'detect-predict-missing-image',
    ['detect', 'predict', '--model-dir', '{detector}', '--out', '{scratch}/pred', '{imageMissing}'],
    ['{imageMissing}', 'no such file'],
  ],
  [
    'detect-predict-missing-model',
    ['detect', 'predict', '--model-dir', '{detectorMissing}', '--out', '{scratch}/pred', '{shapesGood}'],
    ['{detectorMissing}'],
  ],
].map(([id, a, names]) => ({ id, group: 'detection data and detectors', args: a, names }) as CorpusCase);

const outputCases: CorpusCase[] = [
  ['out-is-file', trainIdx().map((a) => (a === OUT ? '{aFile}' : a)), ['--out {aFile}', 'is a file']],
  [
    'out-below-file',
    trainIdx().map((a) => (a === OUT ? '{aFile}/run' : a)),
    ['{aFile}/run', 'a part of the path is a file'],
  ],
  ['out-dangling-link', trainIdx().map((a) => (a === OUT ? '{outDangling}' : a)), ['{outDangling}']],
  ['out-link-loop', trainIdx().map((a) => (a === OUT ? '{outLoop}' : a)), ['{outLoop}', 'symbolic links']],
  ['export-out-folder', ['export', 'onnx', '--model-dir', '{model}', '--out', '{root}'], ['{root}', 'folder']],
  [
    'export-out-below-file',
    ['export', 'onnx', '--model-dir', '{model}', '--out', '{aFile}/m.onnx'],
    ['{aFile}/m.onnx', 'a part of the path is a file'],
  ],
  [
    'eval-out-below-file',
    ['eval', '--model-dir', '{model}', '--data', IDX, '--out', '{aFile}'],
    ['{aFile}/confusion.png', 'a file or a link is in the way'],
  ],
].map(([id, a, names]) => ({ id, group: 'output folders and links', args: a, names }) as CorpusCase);

const mountCases: CorpusCase[] = [
  ['full-train', trainIdx().map((a) => (a === OUT ? '{full}/run' : a)), ['{full}/run', 'no space left on the device']],
  ['full-train-existing', trainIdx().map((a) => (a === OUT ? '{full}' : a)), ['{full}', 'no space left on the device']],
  [
    'full-export',
    ['export', 'onnx', '--model-dir', '{model}', '--out', '{full}/m.onnx'],
    ['{full}/m.onnx', 'no space left on the device'],
  ],
  [
    'full-eval-confusion',
    ['eval', '--model-dir', '{model}', '--data', IDX, '--out', '{full}'],
    ['{full}/confusion.png', 'no space left'],
  ],
  ['full-coco-plot', [...coco('{gt}'), '--plot', '{full}/pr.png'], ['{full}/pr.png', 'no space left']],
  [
    'full-shapes',
    ['shapes', '--out', '{full}/shapes', '--train', '1', '--val', '1', '--size', '64'],
    ['{full}/shapes', 'no space left'],
  ],
  [
    'full-detect-eval-results',
    ['detect', 'eval', '--model-dir', '{detector}', '--data', SHAPES, '--out', '{full}/results.json'],
    ['{full}/results.json', 'no space left'],
  ],
  ['read-only-train', trainIdx().map((a) => (a === OUT ? '{readOnly}/run' : a)), ['{readOnly}/run', 'read-only']],
  ['read-only-train-existing', trainIdx().map((a) => (a === OUT ? '{readOnly}' : a)), ['{readOnly}', 'read-only']],
  [
    'read-only-export',
    ['export', 'onnx', '--model-dir', '{model}', '--out', '{readOnly}/m.onnx'],
    ['{readOnly}/m.onnx', 'read-only'],
  ],
  [
    'read-only-detect-predict',
    ['detect', 'predict', '--model-dir', '{detector}', '--out', '{readOnly}/pred', '{shapesGood}'],
    ['{readOnly}/pred', 'read-only'],
  ],
  [
    'read-only-detect-train',
    detectTrain(SHAPES).map((a) => (a === OUT ? '{readOnly}/run' : a)),
    ['{readOnly}/run', 'read-only'],
  ],
].map(([id, a, names]) => ({ id, group: 'full and read-only disks', args: a, names, mounts: true }) as CorpusCase);

/** Every case, in the README's order. */
export const CORPUS: readonly CorpusCase[] = [
  ...args,
  ...resumeCases,
  ...idxCases,
  ...cifarCases,
  ...folderCases,
  ...modelCases,
  ...predictCases,
  ...checkpointCases,
  ...cocoCases,
  ...detectCases,
  ...outputCases,
  ...mountCases,
];

/** `text` with each `{key}` replaced by `paths[key]` (throws on an unknown key). */
export function resolve(text: string, paths: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (!(key in paths)) throw new Error(`corpus: no fixture '${key}'`);
    return paths[key];
  });
}
