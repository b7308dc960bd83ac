// Normalize: the last step before the model, (x - mean) / std per channel.
import { torch, type Tensor } from '../../torch/index.js';
import { readOptions } from '../../validate.js';
import { readNumbers, readP } from './options.js';
import { ImageTransform, onPicked, type BatchShape } from './transform.js';

/** ImageNet's channel statistics (RGB, [0, 1] scale): what torchvision and timm encoders were trained with. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

export interface NormalizeOptions {
  /** Per-channel mean, or one for all channels (default ImageNet's). */
  mean?: number | number[];
  /** Per-channel standard deviation, positive (default ImageNet's). */
  std?: number | number[];
  p?: number;
}

/**
 * (x - mean) * (1 / std) per channel (albumentations' Normalize with its 'standard'
 * normalisation, p = 1). Images here are already in [0, 1], so there is no max_pixel_value:
 * albumentations' 255 is for uint8 input.
 */
export class Normalize extends ImageTransform<true> {
  readonly mean: readonly number[];
  readonly std: readonly number[];

  constructor(options?: NormalizeOptions) {
    const o = readOptions('Normalize', options, ['mean', 'std', 'p']);
    super('Normalize', readP(o, 1));
    this.mean = readNumbers(o, 'mean', IMAGENET_MEAN);
    this.std = readNumbers(o, 'std', IMAGENET_STD, true);
  }
  protected override check(shape: BatchShape): void {
    for (const [name, list] of [
      ['mean', this.mean],
      ['std', this.std],
    ] as const) {
      if (list.length !== 1 && list.length !== shape.channels)
        throw new RangeError(
          `${this.name}: ${name} has ${list.length} values but the images have ${shape.channels} channels (give one per channel, or one for all)`,
        );
    }
  }
  protected draw(): true {
    return true;
  }
  protected image(image: Tensor, params: readonly (true | undefined)[], shape: BatchShape): Tensor {
    const c = shape.channels;
    const perChannel = (list: readonly number[], f: (v: number) => number): Tensor =>
      torch
        .tensor(
          Float64Array.from({ length: c }, (_, i) => f(list.length === 1 ? list[0]! : list[i]!)),
          { shape: [1, c, 1, 1] },
        )
        .to({ dtype: image.dtype });
    return onPicked(image, params, (x) => x.sub(perChannel(this.mean, (m) => m)).mul_(perChannel(this.std, (s) => 1 / s)));
  }
}
