// Batch augmentation on tensors, seeded, per-sample draws (albumentations' names and defaults).
export {
  type Transform,
  type BatchShape,
  type PixelMap,
  BatchTransform,
  ImageTransform,
  checkBatch,
  composeMaps,
  mapMeta,
} from './transform.js';
export type { Range, RangeForm } from './options.js';
export { HorizontalFlip, VerticalFlip, Transpose, RandomRotate90, D4, applyD4, D4_ELEMENTS, type D4Element } from './flips.js';
export { RandomCrop, CenterCrop, RandomResizedCrop, type RandomResizedCropOptions, type ResizeInterpolation } from './crops.js';
export { PadIfNeeded, type PadIfNeededOptions, type PadPosition } from './pad.js';
export type { BorderMode } from './remap.js';
export { ShiftScaleRotate, type ShiftScaleRotateOptions, type WarpBorderMode, type WarpInterpolation } from './affine.js';
export {
  RandomBrightnessContrast,
  RandomGamma,
  ColorJitter,
  HueSaturationValue,
  type RandomBrightnessContrastOptions,
  type ColorJitterOptions,
  type HueSaturationValueOptions,
} from './color.js';
export { GaussNoise, GaussianBlur, gaussianKernel1d, type GaussNoiseOptions, type GaussianBlurOptions } from './noise.js';
export { Normalize, IMAGENET_MEAN, IMAGENET_STD, type NormalizeOptions } from './normalize.js';
export { Compose, OneOf, SomeOf } from './compose.js';
export { rgbToGrayscale, rgbToHsv, hsvToRgb } from './hsv.js';
