// Comparisons shared by the lr-scheduler tests: values against the PyTorch-computed sequences
// and state dicts of test/fixtures/optim/ (scripts/fixtures/make_*_fixtures.py).
import assert from 'node:assert/strict';
import type { Optimizer } from '../src/torch/optim/optimizer.js';

/** Equal up to the last few bits: V8's Math.cos/pow and glibc's may round the last bit differently. */
export function close(a: number, e: number, what: string): void {
  assert.ok(a === e || Math.abs(a - e) <= 1e-12 * Math.max(Math.abs(e), 1e-300), `${what}: ${a} vs PyTorch ${e}`);
}

/** Group 0's momentum, or beta1 for Adam-style optimizers. */
export const momentumOf = (o: Optimizer<any>): number => {
  const g = o.paramGroups[0]!;
  return Array.isArray(g.betas) ? (g.betas as number[])[0]! : (g.momentum as number);
};

/** The fixtures' JSON writes +-inf as strings. */
const fromPy = (v: unknown): unknown => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);

/** Our state dict's keys are PyTorch's (less its callables and debugging flags), with equal values. */
export function sameState(ours: unknown, py: unknown, what: string): void {
  py = fromPy(py);
  ours = fromPy(ours);
  if (typeof py === 'number' && typeof ours === 'number') return close(ours, py, what);
  if (Array.isArray(py)) {
    assert.ok(Array.isArray(ours) && ours.length === py.length, `${what}: ${JSON.stringify(ours)} vs ${JSON.stringify(py)}`);
    return py.forEach((v, i) => sameState(ours[i], v, `${what}[${i}]`));
  }
  if (py !== null && typeof py === 'object') {
    assert.ok(ours !== null && typeof ours === 'object', `${what}: not an object`);
    const o = ours as Record<string, unknown>;
    const p = py as Record<string, unknown>;
    for (const k of Object.keys(o)) assert.ok(k in p, `${what}: key ${k} is not in PyTorch's state dict`);
    for (const [k, v] of Object.entries(p)) {
      if (k === 'verbose' || k === '_get_lr_called_within_step') continue;
      assert.ok(k in o, `${what}: PyTorch's key ${k} is missing`);
      sameState(o[k], v, `${what}.${k}`);
    }
    return;
  }
  assert.equal(ours, py, what);
}
