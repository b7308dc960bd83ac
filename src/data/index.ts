// `import { data } from 'segkit'`: sources, decoding, normalisation, augmentation, loading, splits,
// and the functions behind `segkit data check|stats|convert|preview`.
export { type Batch, type Dataset, DEFAULT_IGNORE_INDEX, type Sample, type SampleMeta, type Window } from './dataset.js';
export { type AnyDataset, type DataFormat, detectFormat, FORMATS, type OpenOptions, open } from './open.js';
export { FolderDataset, type FolderOptions, FOLDER_SETTINGS_FILE } from './sources/folder.js';
export { parseMaskCsv, TianchiDataset, type TianchiOptions, type TianchiRow } from './sources/tianchi.js';
export { TilesDataset, type TilesOptions } from './sources/tiles.js';
export { GeoTiffDataset, type GeoTiffOptions } from './sources/geotiff.js';
export { DataFileError, IMAGE_EXTENSIONS, type SourceOptions } from './sources/common.js';
export { gridStarts, planGrid, planRandom } from './sources/chips.js';
export {
  DEFAULT_MAX_PIXELS,
  type DecodedImage,
  type DecodedMask,
  type DecodeImageOptions,
  decodeImage,
  decodeMask,
  type ImageFormat,
  type ImageHeader,
  readImageHeader,
  sniffImageFormat,
} from './decode.js';
export { defaultScaling, encoderNormalization, type Normalization, type Scaling, scaleToFloat } from './normalize.js';
export { BandStats, type BandStatsResult, stretchFromStats } from './band-stats.js';
export * from './augment/index.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export { defaultCollate } from './collate.js';
export {
  RandomSampler,
  type Sampler,
  SequentialSampler,
  SubsetRandomSampler,
  WeightedRandomSampler,
} from './samplers.js';
export { ConcatDataset, Subset } from './subset.js';
export { applySplit, kFold, loadSplit, randomSplit, saveSplit, splitJson, type Split, type SplitSides } from './split.js';
export { spatialBlocks, type SpatialBlocksOptions } from './spatial-blocks.js';
export { Random } from './random.js';
export { type CheckReport, checkDataset, type DataProblem, formatCheckReport } from './check.js';
export { type DatasetStats, datasetStats, statsOf } from './stats.js';
export { type ConvertOptions, type ConvertResult, convertDataset } from './convert.js';
export { type PreviewOptions, previewDataset } from './preview.js';
