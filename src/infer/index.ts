// segkit's inference layer: predictors over images and rasters of any size (windows, TTA,
// ensembles), writers of masks, probabilities and submissions, and post-processing.
export { Predictor, createPredictor, PRECISIONS, type Precision, type PredictorModel, type PredictorOptions } from './predictor.js';
export { slidingWindows, windowStarts, windowWeights, rampWeights, type Window } from './windows.js';
export { ttaTransforms, TTA_MODES, type TtaMode, type TtaTransform } from './tta.js';
export { predictFiles, imageInputs, FILE_FORMATS, type FileFormat, type PredictFilesOptions } from './predict-files.js';
export { predictRaster, predictGeoTiff, type RowSink, type PredictRasterOptions, type PredictGeoTiffOptions } from './raster.js';
export {
  tiledDenseCrf,
  TiledCrf,
  RASTER_CRF_DEFAULTS,
  type RasterCrfOptions,
  type ResolvedRasterCrf,
  type CrfRows,
} from './raster-crf.js';
export { writeSubmission, readSampleNames, type SubmissionOptions } from './submit.js';
export {
  denseCrf,
  gaussianFilter,
  DEEPLAB_CRF,
  type AppearanceKernel,
  type SmoothnessKernel,
  type DenseCrfOptions,
  type CrfImage,
  type CrfProbabilities,
  type GaussianFilterOptions,
} from './crf.js';
export { removeSmallObjects, fillHoles, type RemoveSmallObjectsOptions, type FillHolesOptions } from './cleanup.js';
