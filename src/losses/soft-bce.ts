// smp's SoftBCEWithLogitsLoss: PyTorch's BCEWithLogitsLoss with an ignore label and label
// smoothing.
import { F, Tensor, tidy } from '../torch/index.js';
import { invalidParameterError, readOptions } from '../validate.js';
import { Loss, describeOptions } from './loss.js';
import { checkInputs } from './mode.js';
import { readIgnoreIndex, readNullableNumber } from './options.js';

export type Reduction = 'mean' | 'sum' | 'none';
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

export interface SoftBCEWithLogitsLossOptions {
  /** Per-element weight, broadcast against yPred (e.g. (C, 1, 1) per channel); copied. */
  weight?: Tensor | null;
  /** A yTrue value whose pixels add zero (they still count in the mean, as smp); default -100, null for none. */
  ignoreIndex?: number | null;
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /** Targets become t (1 - s) + (1 - t) s: 0.1 turns 1/0 into 0.9/0.1; default none. */
  smoothFactor?: number | null;
  /** Weight of positive examples, broadcast against yPred (e.g. (C, 1, 1)); copied. */
  posWeight?: Tensor | null;
}

function readWeight(where: string, name: string, v: unknown): Tensor | null {
  if (v === undefined || v === null) return null;
  if (!(v instanceof Tensor)) throw invalidParameterError(where, name, 'a Tensor or null', v);
  return tidy(() => v.detach().clone());
}

/**
 * Binary cross-entropy on logits with smp's additions (`SoftBCEWithLogitsLoss`): pixels whose
 * target equals `ignoreIndex` add zero, and `smoothFactor` smooths the targets. yTrue has
 * yPred's shape (or yPred's without a channel of size 1). Values and gradients equal smp's.
 * `weight` and `posWeight` are buffers (state-dict keys `weight`, `pos_weight`, as smp).
 */
export class SoftBCEWithLogitsLoss extends Loss {
  readonly ignoreIndex: number | null;
  readonly reduction: Reduction;
  readonly smoothFactor: number | null;

  constructor(options?: SoftBCEWithLogitsLossOptions) {
    super();
    const where = 'SoftBCEWithLogitsLoss';
    const o = readOptions(where, options, ['weight', 'ignoreIndex', 'reduction', 'smoothFactor', 'posWeight']);
    this.ignoreIndex = readIgnoreIndex(o, -100);
    this.reduction = o.choice('reduction', REDUCTIONS, 'mean');
    this.smoothFactor = readNullableNumber(o, 'smoothFactor', null, { min: 0, max: 1 });
    const weight = readWeight(where, 'weight', o.get('weight'));
    const posWeight = readWeight(where, 'posWeight', o.get('posWeight'));
    this.registerBuffer('weight', weight);
    this.registerBuffer('pos_weight', posWeight);
  }

  get weight(): Tensor | null {
    return this.getBuffer('weight') ?? null;
  }

  get posWeight(): Tensor | null {
    return this.getBuffer('pos_weight') ?? null;
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    const [p, t0] = checkInputs(`${this.name}.forward`, 'binary', yPred, yTrue, '');
    // A target without yPred's channel of size 1 gets it back: BCE needs equal shapes.
    const t = t0.ndim < p.ndim ? t0.unsqueeze(1) : t0.ndim > p.ndim ? t0.squeeze(1) : t0;
    const s = this.smoothFactor;
    const soft =
      s === null
        ? t
        : t
            .rsub(1)
            .mul(s)
            .add(t.mul(1 - s));
    let loss = F.binaryCrossEntropyWithLogits(p, soft.to({ dtype: p.dtype }), {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: 'none',
    });
    if (this.ignoreIndex !== null) loss = loss.mul(t.ne(this.ignoreIndex).to({ dtype: loss.dtype }));
    if (this.reduction === 'mean') return loss.mean();
    if (this.reduction === 'sum') return loss.sum();
    return loss;
  }

  override extraRepr(): string {
    const { ignoreIndex, reduction, smoothFactor } = this;
    return describeOptions({ ignoreIndex, reduction, smoothFactor }, { ignoreIndex: -100, reduction: 'mean', smoothFactor: null });
  }
}
