// Gradient clipping by total norm: PyTorch 1.13's torch.nn.utils.clip_grad_norm_, same ops.
import '../methods.js';
import { Tensor } from '../tensor.js';
import { tidy } from '../scope.js';
import { noGrad } from '../autograd.js';
import { native } from '../native.js';
import { aten, wrap } from '../ops/registry.js';
import { stack } from '../ops/shape.js';
import { checkNumber, invalidParameterError, readOptions } from '../../validate.js';

// torch.norm(g, p) with no dim is aten::norm over all dims, not linalg_vector_norm: the same
// kernel as PyTorch, so the total norm agrees to the last bit.
const NORM = aten('norm', 'ScalarOpt_dim');
function pNorm(t: Tensor, p: number): Tensor {
  return wrap(
    native.call(
      NORM,
      t.id,
      p,
      t.shape.map((_, i) => i),
      false,
    ),
  );
}

export interface ClipGradNormOptions {
  /** The p of the p-norm (default 2); `Infinity` for the max-norm. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients of `params` in place so that their total norm (as if concatenated into
 * one vector) is at most `maxNorm`, and returns the total norm before clipping. Parameters
 * without a gradient are skipped; with none at all it returns 0.
 */
export function clipGradNorm_(params: Tensor | Iterable<Tensor>, maxNorm: number, options?: ClipGradNormOptions): number {
  const op = 'clipGradNorm_';
  const o = readOptions(op, options, ['normType', 'errorIfNonfinite']);
  const list = params instanceof Tensor ? [params] : params != null && typeof params[Symbol.iterator] === 'function' ? [...params] : null;
  if (list === null || !list.every((p) => p instanceof Tensor)) {
    throw invalidParameterError(op, 'params', 'a Tensor or an array of Tensors', params);
  }
  checkNumber(op, 'maxNorm', maxNorm);
  const normType = o.number('normType', 2);
  const errorIfNonfinite = o.bool('errorIfNonfinite', false);
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;
  return noGrad(() =>
    tidy(op, () => {
      let total: Tensor;
      if (normType === Infinity) {
        const norms = grads.map((g) => g.abs().max());
        total = norms.length === 1 ? norms[0]! : stack(norms).max();
      } else {
        total = pNorm(stack(grads.map((g) => pNorm(g, normType))), normType);
      }
      const value = total.item();
      if (errorIfNonfinite && !Number.isFinite(value)) {
        throw new Error(
          `${op}: the total norm of order ${normType} of the gradients is ${value}, so it cannot be clipped; ` +
            'pass errorIfNonfinite: false to scale the gradients by it anyway',
        );
      }
      // max_norm / (total + 1e-6) in float32 as PyTorch computes it (reciprocal, then multiply).
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1.0);
      for (const g of grads) g.mul_(coef);
      return value;
    }),
  );
}
