// The base of every segkit loss: an nn.Module whose forward(yPred, yTrue) returns a 0-d tensor
// with autograd, run in its own tidy scope so that only the loss outlives the call.
import { nn, tidy, type Tensor } from '../torch/index.js';
import type { Criterion } from '../models/base.js';
import { show } from '../validate.js';

/**
 * A loss module, smp's `_Loss` in segkit: `loss.forward(yPred, yTrue)` returns a 0-d tensor
 * (unless a `reduction: 'none'` option says otherwise), differentiable with respect to yPred.
 * `loss.criterion` is the same call as an arrow function, for `model.loss(output, target,
 * loss.criterion)` or any API that takes a `Criterion`.
 */
export abstract class Loss extends nn.Module {
  /** `(prediction, target) => this.forward(prediction, target)`, bound to this loss. */
  readonly criterion: Criterion = (prediction, target) => this.forward(prediction, target);

  /** The name parts and logs show: the class name ('DiceLoss'). */
  get name(): string {
    return this.constructor.name;
  }

  /**
   * The loss of prediction `yPred` (logits unless `fromLogits: false`) against target `yTrue`.
   * Intermediate tensors are freed on return; autograd keeps what backward needs.
   */
  forward(yPred: Tensor, yTrue: Tensor): Tensor {
    return tidy(() => this.compute(yPred, yTrue));
  }

  /** The loss itself, inside forward's scope; checks its arguments first. */
  protected abstract compute(yPred: Tensor, yTrue: Tensor): Tensor;
}

/**
 * The options that differ from their defaults as `name=value` pairs, for extraRepr
 * (`DiceLoss(mode='multiclass', ignoreIndex=255)`).
 */
export function describeOptions(values: Record<string, unknown>, defaults: Record<string, unknown>): string {
  return Object.entries(values)
    .filter(([k, v]) => !(k in defaults) || JSON.stringify(v) !== JSON.stringify(defaults[k]))
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ');
}
