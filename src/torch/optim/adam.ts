// Adam and AdamW (with amsgrad and maximize): PyTorch 1.13's _single_tensor_adam(w), op for op.
// 1.13 decays the first moment with mul_ + add_ (later versions use lerp_, which rounds
// differently), and computes the bias corrections in double from the step count.
import type { Tensor } from '../tensor.js';
import { add, maximum } from '../ops/math.js';
import { zerosLike } from '../ops/creation.js';
import { Optimizer, betasRule, flag, nonNegative, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

const RULES = { lr: nonNegative, betas: betasRule, eps: nonNegative, weightDecay: nonNegative, amsgrad: flag, maximize: flag };

abstract class AdamBase extends Optimizer<AdamOptions> {
  /** AdamW decays the weights directly; Adam adds weightDecay * param to the gradient (L2). */
  protected abstract readonly decoupled: boolean;

  protected override updateGroup(group: ParamGroup<AdamOptions>, params: Tensor[], grads: Tensor[]): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    params.forEach((param, i) => {
      let grad = maximize ? grads[i]!.neg() : grads[i]!;
      const state = this.stateOf(param);
      if (state.step === undefined) {
        state.step = 0;
        state.exp_avg = this.own(zerosLike(param));
        state.exp_avg_sq = this.own(zerosLike(param));
        if (amsgrad) state.max_exp_avg_sq = this.own(zerosLike(param));
      }
      const expAvg = state.exp_avg as Tensor;
      const expAvgSq = state.exp_avg_sq as Tensor;
      const step = (state.step as number) + 1;
      state.step = step;
      if (this.decoupled) param.mul_(1 - lr * weightDecay);
      else if (weightDecay !== 0) grad = add(grad, param, { alpha: weightDecay });
      expAvg.mul_(beta1).add_(grad, { alpha: 1 - beta1 });
      expAvgSq.mul_(beta2).addcmul_(grad, grad, { value: 1 - beta2 });
      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2 = 1 - beta2 ** step;
      const stepSize = lr / biasCorrection1;
      const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
      let denom: Tensor;
      if (amsgrad) {
        // amsgrad switched on after the first step (by loading a group) starts its max here.
        const maxSq = (state.max_exp_avg_sq as Tensor | undefined) ?? (state.max_exp_avg_sq = this.own(zerosLike(param)));
        maxSq.copy_(maximum(maxSq, expAvgSq));
        denom = maxSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      } else {
        denom = expAvgSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      }
      param.addcdiv_(expAvg, denom, { value: -stepSize });
    });
  }
}

/** Adam; `weightDecay` (default 0) is an L2 term added to the gradient. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options?: Partial<AdamOptions>) {
    super('Adam', params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, RULES);
  }
}

/** AdamW: Adam with decoupled weight decay (default 1e-2), param *= 1 - lr * weightDecay first. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options?: Partial<AdamOptions>) {
    super('AdamW', params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false }, RULES);
  }
}
