// SGD with momentum, dampening, Nesterov and weight decay: PyTorch 1.13's _single_tensor_sgd.
import type { Tensor } from '../tensor.js';
import { add } from '../ops/math.js';
import { clone } from '../ops/shape.js';
import { Optimizer, anyNumber, flag, nonNegative, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

const RULES = { lr: nonNegative, momentum: nonNegative, dampening: anyNumber, weightDecay: nonNegative, nesterov: flag, maximize: flag };

export class SGD extends Optimizer<SGDOptions> {
  /** `lr` has no default (as in PyTorch): give it here or in every param group. */
  constructor(params: ParamsInput<SGDOptions>, options?: Partial<SGDOptions>) {
    super('SGD', params, options, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false }, RULES, (g, where) => {
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
        throw new RangeError(`${where}nesterov needs momentum > 0 and dampening 0, got momentum ${g.momentum} and dampening ${g.dampening}`);
      }
    });
  }

  protected override updateGroup(group: ParamGroup<SGDOptions>, params: Tensor[], grads: Tensor[]): void {
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
}
