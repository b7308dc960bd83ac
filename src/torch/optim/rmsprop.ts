// RMSprop (centered, momentum, weight decay, maximize): PyTorch 1.13's _single_tensor_rmsprop,
// and its _multi_tensor_rmsprop (`foreach`), the same math with aten's _foreach_* ops.
import type { Tensor } from '../tensor.js';
import { add, addcmul } from '../ops/math.js';
import { zerosLike } from '../ops/creation.js';
import { Optimizer, flag, flagOrNull, nonNegative, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';
import * as fe from './foreach.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
  /** Update with aten's multi-tensor _foreach_* ops; null (default): when every parameter is on CUDA. */
  foreach: boolean | null;
}

const RULES = {
  lr: nonNegative,
  alpha: nonNegative,
  eps: nonNegative,
  weightDecay: nonNegative,
  momentum: nonNegative,
  centered: flag,
  maximize: flag,
  foreach: flagOrNull,
};

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, options?: Partial<RMSpropOptions>) {
    super(
      'RMSprop',
      params,
      options,
      { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, foreach: null },
      RULES,
    );
  }

  /** A parameter's state, created at its first step, with `step` counted up for this one. */
  private advance(param: Tensor, momentum: number, centered: boolean): ParamState {
    const state = this.stateOf(param);
    if (state.step === undefined) {
      state.step = 0;
      state.square_avg = this.own(zerosLike(param));
    }
    // Created when first needed, so a scheduler may turn momentum on later (OneCycleLR does).
    if (momentum > 0 && state.momentum_buffer == null) state.momentum_buffer = this.own(zerosLike(param));
    if (centered && state.grad_avg == null) state.grad_avg = this.own(zerosLike(param));
    state.step = (state.step as number) + 1;
    return state;
  }

  protected override updateGroup(group: ParamGroup<RMSpropOptions>, params: Tensor[], grads: Tensor[]): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    const states = params.map((p) => this.advance(p, momentum, centered));
    if (fe.useForeach(group.foreach, params)) {
      for (const idx of fe.buckets(params)) this.updateForeach(group, fe.pick(params, idx), fe.pick(grads, idx), fe.pick(states, idx));
      return;
    }
    params.forEach((param, i) => {
      const state = states[i]!;
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

  /** _multi_tensor_rmsprop over one device/dtype bucket (weight decay out of place: .grad is never modified). */
  private updateForeach(group: ParamGroup<RMSpropOptions>, params: Tensor[], grads: Tensor[], states: ParamState[]): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    let gs = maximize ? fe.neg(grads) : grads;
    if (weightDecay !== 0) gs = fe.add(gs, params, weightDecay);
    const squareAvgs = states.map((s) => s.square_avg as Tensor);
    fe.mulScalar_(squareAvgs, alpha);
    fe.addcmul_(squareAvgs, gs, gs, 1 - alpha);
    let avg: Tensor[];
    if (centered) {
      const gradAvgs = states.map((s) => s.grad_avg as Tensor);
      fe.mulScalar_(gradAvgs, alpha);
      fe.add_(gradAvgs, gs, 1 - alpha);
      avg = fe.addcmul(squareAvgs, gradAvgs, gradAvgs, -1);
      fe.sqrt_(avg);
    } else {
      avg = fe.sqrt(squareAvgs);
    }
    fe.addScalar_(avg, eps);
    if (momentum > 0) {
      const bufs = states.map((s) => s.momentum_buffer as Tensor);
      fe.mulScalar_(bufs, momentum);
      fe.addcdiv_(bufs, gs, avg, 1);
      fe.add_(params, bufs, -lr);
    } else {
      fe.addcdiv_(params, gs, avg, -lr);
    }
  }
}
