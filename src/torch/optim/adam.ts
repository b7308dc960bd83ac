// Adam and AdamW (with amsgrad and maximize): PyTorch 1.13's _single_tensor_adam(w), op for op,
// and its _multi_tensor_adam(w) (`foreach`), the same math with aten's _foreach_* ops.
// 1.13 decays the first moment with mul_ + add_ (later versions use lerp_, which rounds
// differently), and computes the bias corrections in double from the step count.
import type { Tensor } from '../tensor.js';
import { add, maximum } from '../ops/math.js';
import { zerosLike } from '../ops/creation.js';
import { Optimizer, betasRule, flag, flagOrNull, nonNegative, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';
import * as fe from './foreach.js';
import { native } from '../native.js';
import { tids } from '../ops/registry.js';
import { invalidParameterError } from '../../validate.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** Update with aten's multi-tensor _foreach_* ops; null (default): when every parameter is on CUDA. */
  foreach: boolean | null;
  /**
   * One native pass over each parameter instead of eight elementwise kernels (PyTorch 2.4's
   * `fused=True` on the CPU): float32 CPU parameters only. Equal to the unfused update except
   * for rounding in a few elements; null (default) or false: the unfused update.
   */
  fused: boolean | null;
}

const RULES = {
  lr: nonNegative,
  betas: betasRule,
  eps: nonNegative,
  weightDecay: nonNegative,
  amsgrad: flag,
  maximize: flag,
  foreach: flagOrNull,
  fused: flagOrNull,
};

abstract class AdamBase extends Optimizer<AdamOptions> {
  /** AdamW decays the weights directly; Adam adds weightDecay * param to the gradient (L2). */
  protected abstract readonly decoupled: boolean;

  /** A parameter's state, created at its first step, with `step` counted up for this one. */
  private advance(param: Tensor, amsgrad: boolean): ParamState {
    const state = this.stateOf(param);
    if (state.step === undefined) {
      state.step = 0;
      state.exp_avg = this.own(zerosLike(param));
      state.exp_avg_sq = this.own(zerosLike(param));
      if (amsgrad) state.max_exp_avg_sq = this.own(zerosLike(param));
    }
    // amsgrad switched on after the first step (by loading a group) starts its max here.
    if (amsgrad) state.max_exp_avg_sq ??= this.own(zerosLike(param));
    state.step = (state.step as number) + 1;
    return state;
  }

  protected override updateGroup(group: ParamGroup<AdamOptions>, params: Tensor[], grads: Tensor[]): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    // Checked before any state moves: a refused step leaves the optimizer as it was.
    if (group.fused) this.checkFusable(params);
    const states = params.map((p) => this.advance(p, amsgrad));
    if (group.fused) {
      this.updateFused(group, params, grads, states);
      return;
    }
    if (fe.useForeach(group.foreach, params)) {
      // PyTorch passes each parameter's bias corrections as a ScalarList; segkit cannot pass
      // one, so parameters are bucketed by step count too (one bucket when all share it).
      for (const idx of fe.buckets(params, (i) => states[i]!.step as number)) {
        this.updateForeach(group, fe.pick(params, idx), fe.pick(grads, idx), fe.pick(states, idx));
      }
      return;
    }
    params.forEach((param, i) => {
      let grad = maximize ? grads[i]!.neg() : grads[i]!;
      const state = states[i]!;
      const expAvg = state.exp_avg as Tensor;
      const expAvgSq = state.exp_avg_sq as Tensor;
      const step = state.step as number;
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
        const maxSq = state.max_exp_avg_sq as Tensor;
        maxSq.copy_(maximum(maxSq, expAvgSq));
        denom = maxSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      } else {
        denom = expAvgSq.sqrt().div(biasCorrection2Sqrt).add_(eps);
      }
      param.addcdiv_(expAvg, denom, { value: -stepSize });
    });
  }

  private checkFusable(params: Tensor[]): void {
    const bad = params.findIndex((p) => p.dtype !== 'float32' || p.device !== 'cpu');
    if (bad < 0) return;
    const p = params[bad]!;
    const expected = `false for parameters that are not float32 on the CPU (parameter ${bad} is ${p.dtype} on ${p.device})`;
    throw invalidParameterError(`${this.name}.step`, 'fused', expected, true);
  }

  /** The fused update (native/optim.cc), its scalars computed as the single-tensor update computes them. */
  private updateFused(group: ParamGroup<AdamOptions>, params: Tensor[], grads: Tensor[], states: ParamState[]): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    const steps = states.map((s) => s.step as number);
    native.fusedAdam(
      tids(params, 'fusedAdam', 'params'),
      tids(grads, 'fusedAdam', 'grads'),
      tids(
        states.map((s) => s.exp_avg as Tensor),
        'fusedAdam',
        'expAvgs',
      ),
      tids(
        states.map((s) => s.exp_avg_sq as Tensor),
        'fusedAdam',
        'expAvgSqs',
      ),
      amsgrad
        ? tids(
            states.map((s) => s.max_exp_avg_sq as Tensor),
            'fusedAdam',
            'maxExpAvgSqs',
          )
        : null,
      steps.map((step) => lr / (1 - beta1 ** step)),
      steps.map((step) => Math.sqrt(1 - beta2 ** step)),
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      this.decoupled,
      maximize,
    );
  }

  /** _multi_tensor_adam(w) over parameters of one device, dtype and step count. */
  private updateForeach(group: ParamGroup<AdamOptions>, params: Tensor[], grads: Tensor[], states: ParamState[]): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    const step = states[0]!.step as number;
    const expAvgs = states.map((s) => s.exp_avg as Tensor);
    const expAvgSqs = states.map((s) => s.exp_avg_sq as Tensor);
    let gs = maximize ? fe.neg(grads) : grads;
    if (this.decoupled) fe.mulScalar_(params, 1 - lr * weightDecay);
    else if (weightDecay !== 0) gs = fe.add(gs, params, weightDecay);
    fe.mulScalar_(expAvgs, beta1);
    fe.add_(expAvgs, gs, 1 - beta1);
    fe.mulScalar_(expAvgSqs, beta2);
    fe.addcmul_(expAvgSqs, gs, gs, 1 - beta2);
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = lr / biasCorrection1;
    let denom: Tensor[];
    if (amsgrad) {
      const maxSqs = states.map((s) => s.max_exp_avg_sq as Tensor);
      fe.maximum_(maxSqs, expAvgSqs);
      denom = fe.sqrt(maxSqs);
    } else {
      denom = fe.sqrt(expAvgSqs);
    }
    fe.divScalar_(denom, Math.sqrt(biasCorrection2));
    fe.addScalar_(denom, eps);
    fe.addcdiv_(params, expAvgs, denom, -stepSize);
  }
}

/** Adam; `weightDecay` (default 0) is an L2 term added to the gradient. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options?: Partial<AdamOptions>) {
    super(
      'Adam',
      params,
      options,
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, foreach: null, fused: null },
      RULES,
    );
  }
}

/** AdamW: Adam with decoupled weight decay (default 1e-2), param *= 1 - lr * weightDecay first. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options?: Partial<AdamOptions>) {
    super(
      'AdamW',
      params,
      options,
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, foreach: null, fused: null },
      RULES,
    );
  }
}
