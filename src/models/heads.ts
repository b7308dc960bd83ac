// smp's heads, with its module layout so state-dict keys match (`segmentation_head.0.weight`,
// `classification_head.3.weight`).
import { nn, F, type Tensor } from '../torch/index.js';
import { OptionReader, describeChoices, invalidParameterError } from '../validate.js';

export type ActivationName = 'identity' | 'sigmoid' | 'softmax' | 'softmax2d' | 'logsoftmax' | 'tanh' | 'argmax' | 'argmax2d';
export type ActivationOption = ActivationName | null | ((x: Tensor) => Tensor);

const ACTIVATIONS: readonly ActivationName[] = ['identity', 'sigmoid', 'softmax', 'softmax2d', 'logsoftmax', 'tanh', 'argmax', 'argmax2d'];

/** An activation option: null (none, the default), a function of the logits, or one of smp's names. */
export function checkActivation(where: string, name: string, v: unknown): ActivationOption {
  if (v === undefined || v === null) return null;
  if (typeof v === 'function' || ACTIVATIONS.includes(v as ActivationName)) return v as ActivationOption;
  throw invalidParameterError(where, name, `null, a function or ${describeChoices(ACTIVATIONS)}`, v);
}

const AUX_KEYS = ['classes', 'pooling', 'dropout', 'activation'] as const;

/** smp's aux_params: null, or { classes, pooling, dropout, activation } (smp passes them as keywords, so unknown keys are errors). */
export function checkAuxParams(where: string, v: unknown): AuxParams | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameterError(where, 'auxParams', 'null or an object', v);
  const o = new OptionReader<AuxParams>(where, v as AuxParams, AUX_KEYS, 'auxParams.');
  return {
    classes: o.int('classes', 1),
    pooling: o.choice('pooling', ['avg', 'max'] as const, 'avg'),
    dropout: o.probability('dropout', 0),
    activation: checkActivation(where, 'auxParams.activation', o.get('activation')),
  };
}

/** smp's Activation: applied to the logits when the user asks for one (none by default). */
export class Activation extends nn.Module {
  readonly activation: ActivationOption;

  constructor(activation: ActivationOption) {
    super();
    this.activation = checkActivation('Activation', 'activation', activation);
  }

  forward(x: Tensor): Tensor {
    const a = this.activation;
    if (a === null || a === 'identity') return x;
    if (typeof a === 'function') return a(x);
    switch (a) {
      case 'sigmoid':
        return x.sigmoid();
      case 'softmax':
      case 'softmax2d':
        return x.softmax(1);
      case 'logsoftmax':
        return x.logSoftmax(1);
      case 'tanh':
        return x.tanh();
      case 'argmax':
      case 'argmax2d':
        return x.argmax({ dim: 1, keepdim: true });
    }
    return x;
  }

  override extraRepr(): string {
    return typeof this.activation === 'function' ? 'fn' : String(this.activation ?? 'identity');
  }
}

/** A bilinear upsampling by a fixed factor (nn.UpsamplingBilinear2d: alignCorners true). */
export class UpsamplingBilinear2d extends nn.Module {
  constructor(readonly scaleFactor: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.interpolate(x, { scaleFactor: this.scaleFactor, mode: 'bilinear', alignCorners: true });
  }

  override extraRepr(): string {
    return `scale_factor=${this.scaleFactor}`;
  }
}

/** Conv to `classes` maps, optional upsampling, activation: Sequential(conv, up, act). */
export class SegmentationHead extends nn.Sequential {
  constructor(
    inChannels: number,
    classes: number,
    options: { kernelSize?: number; activation?: ActivationOption; upsampling?: number } = {},
  ) {
    const k = options.kernelSize ?? 3;
    const up = options.upsampling ?? 1;
    super(
      new nn.Conv2d(inChannels, classes, k, { padding: Math.floor(k / 2) }),
      up > 1 ? new UpsamplingBilinear2d(up) : new nn.Identity(),
      new Activation(options.activation ?? null),
    );
  }
}

export interface AuxParams {
  classes?: number;
  pooling?: 'avg' | 'max';
  dropout?: number;
  activation?: ActivationOption;
}

/** smp's classification head on the deepest feature: pool, flatten, dropout, linear, activation. */
export class ClassificationHead extends nn.Sequential {
  constructor(inChannels: number, params: AuxParams) {
    const { classes = 1, pooling = 'avg', dropout = 0 } = checkAuxParams('ClassificationHead', params)!;
    super(
      pooling === 'avg' ? new nn.AdaptiveAvgPool2d(1) : new AdaptiveMaxPool2d(1),
      new nn.Flatten(),
      dropout > 0 ? new nn.Dropout({ p: dropout }) : new nn.Identity(),
      new nn.Linear(inChannels, classes, { bias: true }),
      new Activation(params.activation ?? null),
    );
  }
}

class AdaptiveMaxPool2d extends nn.Module {
  constructor(readonly outputSize: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool2d(x, this.outputSize) as Tensor;
  }
}
