// SGD with momentum, dampening, Nesterov and weight decay: PyTorch 1.13's _single_tensor_sgd,
// and its _multi_tensor_sgd (`foreach`), which does the same math with aten's _foreach_* ops.
import type { Tensor } from '../tensor.js';
import { add } from '../ops/math.js';
import { clone } from '../ops/shape.js';
import { Optimizer, anyNumber, flag, flagOrNull, nonNegative, type ParamGroup, type ParamsInput } from './optimizer.js';
import * as fe from './foreach.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  /** Update with aten's multi-tensor _foreach_* ops; null (default): when every parameter is on CUDA. */
  foreach: boolean | null;
}

const RULES = {
  lr: nonNegative,
  momentum: nonNegative,
  dampening: anyNumber,
  weightDecay: nonNegative,
  nesterov: flag,
  maximize: flag,
  foreach: flagOrNull,
};

export class SGD extends Optimizer<SGDOptions> {
  /** `lr` has no default (as in PyTorch): give it here or in every param group. */
  constructor(params: ParamsInput<SGDOptions>, options?: Partial<SGDOptions>) {
    super(
      'SGD',
      params,
      options,
      { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, foreach: null },
      RULES,
      (g, where) => {
        if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
          throw new RangeError(
            `${where}nesterov needs momentum > 0 and dampening 0, got momentum ${g.momentum} and dampening ${g.dampening}`,
          );
        }
      },
    );
  }

  protected override updateGroup(group: ParamGroup<SGDOptions>, params: Tensor[], grads: Tensor[]): void {
    if (fe.useForeach(group.foreach, params)) {
      for (const idx of fe.buckets(params)) this.updateForeach(group, fe.pick(params, idx), fe.pick(grads, idx));
      return;
    }
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    params.forEach((param, i) => {
      let dp = maximize ? grads[i]!.neg() : grads[i]!;
      if (weightDecay !== 0) dp = add(dp, param, { alpha: weightDecay });
      const state = this.stateOf(param);
      if (momentum !== 0) {
        let buf = state.momentum_buffer as Tensor | null | undefined;
        if (buf == null) {
          buf = this.own(clone(dp));
          state.momentum_buffer = buf;
        } else {
          buf.mul_(momentum).add_(dp, { alpha: 1 - dampening });
        }
        dp = nesterov ? add(dp, buf, { alpha: momentum }) : buf;
      } else {
        // PyTorch records None for a momentum-free step; kept so state dicts compare equal.
        state.momentum_buffer ??= null;
      }
      param.add_(dp, { alpha: -lr });
    });
  }

  /**
   * _multi_tensor_sgd over one device/dtype bucket. Unlike PyTorch, Nesterov's step is computed
   * out of place, so the parameters' .grad tensors are never modified.
   */
  private updateForeach(group: ParamGroup<SGDOptions>, params: Tensor[], grads: Tensor[]): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    let dps = maximize ? fe.neg(grads) : grads;
    if (weightDecay !== 0) dps = fe.add(dps, params, weightDecay);
    if (momentum !== 0) {
      // Existing buffers decay together; a parameter's first step copies its gradient in.
      const bufs: Tensor[] = [];
      const old: Tensor[] = [];
      const oldDps: Tensor[] = [];
      params.forEach((p, i) => {
        const state = this.stateOf(p);
        let buf = state.momentum_buffer as Tensor | null | undefined;
        if (buf == null) {
          buf = this.own(clone(dps[i]!));
          state.momentum_buffer = buf;
        } else {
          old.push(buf);
          oldDps.push(dps[i]!);
        }
        bufs.push(buf);
      });
      fe.mulScalar_(old, momentum);
      fe.add_(old, oldDps, 1 - dampening);
      dps = nesterov ? fe.add(dps, bufs, momentum) : bufs;
    } else {
      for (const p of params) this.stateOf(p).momentum_buffer ??= null;
    }
    fe.add_(params, dps, -lr);
  }
}
