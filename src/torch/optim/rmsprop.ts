// RMSprop (centered, momentum, weight decay, maximize): PyTorch 1.13's _single_tensor_rmsprop.
import type { Tensor } from '../tensor.js';
import { add, addcmul } from '../ops/math.js';
import { zerosLike } from '../ops/creation.js';
import { Optimizer, flag, nonNegative, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

const RULES = { lr: nonNegative, alpha: nonNegative, eps: nonNegative, weightDecay: nonNegative, momentum: nonNegative, centered: flag, maximize: flag };

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, options?: Partial<RMSpropOptions>) {
    super('RMSprop', params, options, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false }, RULES);
  }

  protected override updateGroup(group: ParamGroup<RMSpropOptions>, params: Tensor[], grads: Tensor[]): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    params.forEach((param, i) => {
      const state = this.stateOf(param);
      if (state.step === undefined) {
        state.step = 0;
        state.square_avg = this.own(zerosLike(param));
      }
      // Created when first needed, so a scheduler may turn momentum on later (OneCycleLR does).
      if (momentum > 0 && state.momentum_buffer == null) state.momentum_buffer = this.own(zerosLike(param));
      if (centered && state.grad_avg == null) state.grad_avg = this.own(zerosLike(param));
      state.step = (state.step as number) + 1;
      let grad = maximize ? grads[i]!.neg() : grads[i]!;
      if (weightDecay !== 0) grad = add(grad, param, { alpha: weightDecay });
      const squareAvg = state.square_avg as Tensor;
      squareAvg.mul_(alpha).addcmul_(grad, grad, { value: 1 - alpha });
      let avg: Tensor;
      if (centered) {
        const gradAvg = state.grad_avg as Tensor;
        gradAvg.mul_(alpha).add_(grad, { alpha: 1 - alpha });
        avg = addcmul(squareAvg, gradAvg, gradAvg, { value: -1 }).sqrt_();
      } else {
        avg = squareAvg.sqrt();
      }
      avg.add_(eps);
      if (momentum > 0) {
        const buf = state.momentum_buffer as Tensor;
        buf.mul_(momentum).addcdiv_(grad, avg);
        param.add_(buf, { alpha: -lr });
      } else {
        param.addcdiv_(grad, avg, { value: -lr });
      }
    });
  }
}
