// Finite-difference gradient checker, in the spirit of torch.autograd.gradcheck: the analytic
// gradient that backward() accumulates into `.grad` is compared, element by element, with
// central differences (f(x + eps) - f(x - eps)) / 2 eps computed in float64.
//
// The output is reduced to a scalar with a fixed random weighting `w` (backward(w) on the
// output, sum(out * w) for the numeric side), so ops whose plain sum has a zero gradient
// (softmax, normalisation) are still checked, and the non-scalar backward(gradient) path too.
import assert from 'node:assert/strict';
import { torch, type Tensor } from '../src/index.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance, against the numeric value (default 1e-4). */
  rtol?: number;
  /** Indices of the inputs to check (default: all of them). */
  wrt?: number[];
  /** Seed for the output weighting (default 1234). */
  seed?: number;
}

export interface GradcheckReport {
  /** Elements compared over all checked inputs. */
  checked: number;
  /** Largest |analytic - numeric|. */
  maxAbsError: number;
}

function float64Values(t: Tensor): Float64Array {
  const a = t.toArray();
  return a instanceof Float64Array ? Float64Array.from(a) : Float64Array.from(a as ArrayLike<number>, Number);
}

/**
 * Checks the gradients of `fn` with respect to `inputs` (float64 tensors the caller owns and
 * keeps: they are copied, never modified). Throws an AssertionError naming `name`, the input,
 * the element and both values when they disagree. Leaves no tensor alive.
 */
export function gradcheck(
  name: string,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-4;
  const wrt = options.wrt ?? inputs.map((_, i) => i);
  for (const [i, x] of inputs.entries()) {
    assert.equal(x.dtype, 'float64', `${name}: gradcheck input ${i} must be float64, got ${x.dtype}`);
  }
  return torch.tidy(() => {
    // ---- analytic: fresh leaves, one backward with a random output weighting
    const leaves = inputs.map((x, i) => (wrt.includes(i) ? x.detach().clone().requiresGrad_(true) : x));
    const out = fn(...leaves);
    assert.equal(out.dtype, 'float64', `${name}: output must be float64 (got ${out.dtype})`);
    assert.ok(out.requiresGrad, `${name}: output does not require grad (gradFn ${out.gradFn})`);
    const state = torch.getRngState();
    torch.manualSeed(options.seed ?? 1234);
    const w = torch.rand(out.shape as number[], { dtype: 'float64' }).add(0.5); // in [0.5, 1.5): no cancellation
    torch.setRngState(state);
    out.backward(w);
    const analytic = new Map<number, Float64Array>();
    for (const i of wrt) {
      const leaf = leaves[i]!;
      assert.equal(leaf.isLeaf, true);
      const g = leaf.grad;
      if (g !== null) assert.deepEqual([...g.shape], [...leaf.shape], `${name}: grad of input ${i} has the wrong shape`);
      analytic.set(i, g === null ? new Float64Array(leaf.numel) : float64Values(g));
    }

    // ---- numeric: central differences of sum(fn(x) * w), without autograd
    const evalAt = (i: number, values: Float64Array): number =>
      torch.tidy(() => {
        const xs = inputs.map((x, k) => (k === i ? torch.tensor(values, { shape: [...x.shape] }) : x));
        return fn(...xs)
          .mul(w)
          .sum()
          .item();
      });
    let checked = 0;
    let maxAbsError = 0;
    torch.noGrad(() => {
      for (const i of wrt) {
        const base = float64Values(inputs[i]!);
        const a = analytic.get(i)!;
        for (let j = 0; j < base.length; j++) {
          const v = base[j]!;
          const plus = Float64Array.from(base);
          plus[j] = v + eps;
          const minus = Float64Array.from(base);
          minus[j] = v - eps;
          const numeric = (evalAt(i, plus) - evalAt(i, minus)) / (2 * eps);
          const err = Math.abs(a[j]! - numeric);
          maxAbsError = Math.max(maxAbsError, err);
          checked++;
          if (!(err <= atol + rtol * Math.abs(numeric))) {
            assert.fail(
              `${name}: gradient of input ${i} [shape ${inputs[i]!.shape.join('x')}] at flat element ${j}: ` +
                `analytic ${a[j]} vs numeric ${numeric} (|diff| ${err} > atol ${atol} + rtol ${rtol} * |numeric|)`,
            );
          }
        }
      }
    });
    return { checked, maxAbsError };
  });
}

/** float64 values in [lo, hi) from a seeded generator (restores the global RNG state). */
export function uniform(shape: number[], lo = -1, hi = 1, seed = 7): Tensor {
  const state = torch.getRngState();
  torch.manualSeed(seed);
  const t = torch.tidy(() =>
    torch
      .rand(shape, { dtype: 'float64' })
      .mul(hi - lo)
      .add(lo),
  );
  torch.setRngState(state);
  state.dispose();
  return t;
}

/**
 * float64 values that are pairwise at least `gap` apart and at least `gap` from 0 (for relu,
 * max and pooling, whose gradients jump at ties and at zero): a shuffled grid, sign-split.
 */
export function distinct(shape: number[], gap = 0.05, seed = 11): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const state = torch.getRngState();
  torch.manualSeed(seed);
  const perm = torch.randperm(n);
  torch.setRngState(state);
  state.dispose();
  const order = perm.toArray() as BigInt64Array;
  perm.dispose();
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const r = Number(order[k]!) - Math.floor(n / 2); // ..., -1, 0, 1, ...
    values[k] = (r >= 0 ? r + 1 : r) * gap; // never 0
  }
  return torch.tensor(values, { shape });
}
