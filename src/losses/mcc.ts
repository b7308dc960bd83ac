// smp's MCCLoss: 1 - Matthews correlation coefficient of soft binary counts over the batch
// (Abhishek and Hamarneh 2021, https://github.com/kakumarabhishek/MCC-Loss).
import type { Tensor } from '../torch/index.js';
import { readOptions } from '../validate.js';
import { Loss, describeOptions } from './loss.js';
import { checkInputs } from './mode.js';

export interface MCCLossOptions {
  /** Added to each soft count (TP, TN, FP, FN), for batches of one class only; default 1e-5. */
  eps?: number;
  /** Apply a sigmoid to yPred first; default false: yPred holds probabilities, as smp's MCCLoss takes them. */
  fromLogits?: boolean;
}

/**
 * MCC loss for binary masks (smp's `MCCLoss`): yPred (N, 1, H, W) probabilities (or logits
 * with `fromLogits: true`, a segkit addition), yTrue 0/1 of the same shape or without the
 * channel. Values and gradients equal smp's.
 */
export class MCCLoss extends Loss {
  readonly eps: number;
  readonly fromLogits: boolean;

  constructor(options?: MCCLossOptions) {
    super();
    const o = readOptions('MCCLoss', options, ['eps', 'fromLogits']);
    this.eps = o.number('eps', 1e-5, { min: 0 });
    this.fromLogits = o.bool('fromLogits', false);
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    const [p0, t0] = checkInputs(`${this.name}.forward`, 'binary', yPred, yTrue);
    const bs = t0.shape[0]!;
    const t = t0.reshape([bs, 1, -1]);
    const p = (this.fromLogits ? p0.sigmoid() : p0).reshape([bs, 1, -1]);
    const eps = this.eps;
    const tp = p.mul(t).sum().add(eps);
    const tn = p.rsub(1).mul(t.rsub(1)).sum().add(eps);
    const fp = p.mul(t.rsub(1)).sum().add(eps);
    const fn = p.rsub(1).mul(t).sum().add(eps);
    const numerator = tp.mul(tn).sub(fp.mul(fn));
    const denominator = tp.add(fp).mul(tp.add(fn)).mul(tn.add(fp)).mul(tn.add(fn)).sqrt();
    return numerator.sum().div(denominator.sum()).rsub(1);
  }

  override extraRepr(): string {
    const { eps, fromLogits } = this;
    return describeOptions({ eps, fromLogits }, { eps: 1e-5, fromLogits: false });
  }
}
