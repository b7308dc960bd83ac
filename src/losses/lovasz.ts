// smp's LovaszLoss (Berman et al. 2018, "The Lovász-Softmax loss"): the Lovász extension of the
// Jaccard loss, as a hinge on logits for binary and multilabel masks and on softmax
// probabilities per present class for multiclass masks.
import { F, torch, type Tensor } from '../torch/index.js';
import { readOptions } from '../validate.js';
import { Loss, describeOptions } from './loss.js';
import { checkInputs, checkMode, type LossMode } from './mode.js';
import { readIgnoreIndex } from './options.js';

export interface LovaszLossOptions {
  /** The loss of each image, averaged, instead of one loss over the batch; default false. */
  perImage?: boolean;
  /** A yTrue label whose pixels count nowhere; default none. */
  ignoreIndex?: number | null;
  /**
   * yPred holds logits (default). false, in multiclass mode only, takes yPred as softmax
   * probabilities; the binary hinge is defined on logits, so binary and multilabel modes refuse it.
   */
  fromLogits?: boolean;
}

/**
 * The gradient of the Lovász extension with respect to errors sorted in decreasing order
 * (Alg. 1 of the paper), for sorted 0/1 labels, in `dtype`.
 */
export function lovaszGrad(gtSorted: Tensor, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const gt = gtSorted.to({ dtype });
  const p = gt.shape[0]!;
  const gts = gt.sum();
  const intersection = gts.sub(gt.cumsum(0));
  const union = gts.add(gt.rsub(1).cumsum(0));
  const jaccard = intersection.div(union).rsub(1);
  if (p <= 1) return jaccard;
  return torch.cat([jaccard.narrow(0, 0, 1), jaccard.narrow(0, 1, p - 1).sub(jaccard.narrow(0, 0, p - 1))]);
}

type FloatDType = 'float32' | 'float64';

/** Python's running mean of smp's lovasz `mean()`: the first value, plus each next one, over n. */
function runningMean(values: Tensor[]): Tensor | null {
  if (values.length === 0) return null;
  let acc = values[0]!;
  for (let i = 1; i < values.length; i++) acc = acc.add(values[i]!);
  return values.length === 1 ? acc : acc.div(values.length);
}

/**
 * Lovász loss for 'binary', 'multiclass' and 'multilabel' modes (smp's `LovaszLoss(mode, ...)`).
 * Binary and multilabel: the Lovász hinge on logits over all pixels (and channels) of the batch,
 * or of each image with `perImage`. Multiclass: Lovász-Softmax over the classes present.
 * Values and gradients equal smp's in float32; smp fails in float64 (its Jaccard gradient is
 * float32), where segkit computes everything in float64.
 */
export class LovaszLoss extends Loss {
  readonly mode: LossMode;
  readonly perImage: boolean;
  readonly ignoreIndex: number | null;
  readonly fromLogits: boolean;

  constructor(mode: LossMode, options?: LovaszLossOptions) {
    super();
    const where = 'LovaszLoss';
    this.mode = checkMode(where, mode);
    const o = readOptions(where, options, ['perImage', 'ignoreIndex', 'fromLogits']);
    this.perImage = o.bool('perImage', false);
    this.ignoreIndex = readIgnoreIndex(o, null);
    this.fromLogits = o.bool('fromLogits', true);
    if (!this.fromLogits && this.mode !== 'multiclass') {
      throw new TypeError(
        `LovaszLoss: fromLogits must be true in ${this.mode} mode (the Lovász hinge takes logits; only multiclass mode takes probabilities), got false`,
      );
    }
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    const [p0, t] = checkInputs(`${this.name}.forward`, this.mode, yPred, yTrue);
    // Sorting and the Jaccard gradient run in float32 at least (the dot product needs one dtype).
    const p = p0.dtype === 'float16' || p0.dtype === 'bfloat16' ? p0.float() : p0;
    const dtype = p.dtype === 'float64' ? 'float64' : 'float32';
    if (this.mode === 'multiclass') {
      const probas = this.fromLogits ? p.softmax(1) : p;
      return this.overImages(probas, t, (pr, lb) => this.softmaxFlat(pr, lb, dtype));
    }
    return this.overImages(p, t, (lg, lb) => this.hingeFlat(lg, lb, dtype));
  }

  /** fn over the whole batch, or over each image then averaged. */
  private overImages(pred: Tensor, labels: Tensor, fn: (pred: Tensor, labels: Tensor) => Tensor): Tensor {
    if (!this.perImage) return fn(pred, labels);
    const n = pred.shape[0]!;
    const perImage = Array.from({ length: n }, (_, i) => fn(pred.narrow(0, i, 1), labels.narrow(0, i, 1)));
    return runningMean(perImage)!;
  }

  /** Pixels as rows: logits (P) or probabilities (P, C), labels (P), ignored pixels dropped. */
  private flatten(pred: Tensor, labels: Tensor, classes: number | null): [Tensor, Tensor] {
    let scores: Tensor;
    if (classes === null) scores = pred.reshape([-1]);
    else {
      const order = [0, ...pred.shape.slice(2).map((_, i) => i + 2), 1];
      scores = pred.permute(order).reshape([-1, classes]);
    }
    let flat = labels.reshape([-1]);
    if (this.ignoreIndex === null) return [scores, flat];
    const valid = flat.ne(this.ignoreIndex);
    scores = scores.index([valid]);
    flat = flat.index([valid]);
    return [scores, flat];
  }

  private hingeFlat(logitsIn: Tensor, labelsIn: Tensor, dtype: FloatDType): Tensor {
    const [logits, labels] = this.flatten(logitsIn, labelsIn, null);
    // Only ignored pixels: a zero that keeps the graph, so backward gives zero gradients.
    if (labels.numel === 0) return logits.sum().mul(0);
    const signs = labels.to({ dtype }).mul(2).sub(1);
    const errors = logits.mul(signs).rsub(1);
    const { values: errorsSorted, indices: perm } = errors.sort({ dim: 0, descending: true });
    const grad = lovaszGrad(labels.index([perm]), dtype);
    return F.relu(errorsSorted).dot(grad);
  }

  private softmaxFlat(probasIn: Tensor, labelsIn: Tensor, dtype: FloatDType): Tensor {
    const numClasses = probasIn.shape[1]!;
    const [probas, labels] = this.flatten(probasIn, labelsIn, numClasses);
    // smp returns an empty (0, C) tensor here; a 0-d zero on the graph is what a trainer can use.
    if (probas.numel === 0) return probas.sum().mul(0);
    const losses: Tensor[] = [];
    for (let c = 0; c < numClasses; c++) {
      const fg = labels.eq(c).to({ dtype: probas.dtype });
      if (fg.sum().item() === 0) continue; // only the classes present count
      const errors = fg.sub(probas.select(1, c)).abs();
      const { values: errorsSorted, indices: perm } = errors.sort({ dim: 0, descending: true });
      losses.push(errorsSorted.dot(lovaszGrad(fg.index([perm]), dtype)));
    }
    // No class present (every label outside 0..C-1): smp returns the number 0.
    return runningMean(losses) ?? probas.sum().mul(0);
  }

  override extraRepr(): string {
    const { mode, perImage, ignoreIndex, fromLogits } = this;
    return describeOptions({ mode, perImage, ignoreIndex, fromLogits }, { perImage: false, ignoreIndex: null, fromLogits: true });
  }
}
