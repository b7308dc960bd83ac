// Shared by test/nn.test.ts and test/nn-layers.test.ts: the PyTorch fixtures written by
// scripts/fixtures/make_nn_fixtures.py and the comparisons both files use.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, type Tensor } from '../src/index.js';
import { FIXTURES, assertClose } from './helpers.js';

const fixture = torch.loadSafetensors(join(FIXTURES, 'nn', 'nn.safetensors'));
after(() => torch.dispose(fixture));
/** keys.json: what is not a tensor (state-dict keys, repr() strings, gains, erf values). */
export const J = JSON.parse(readFileSync(join(FIXTURES, 'nn', 'keys.json'), 'utf8'));

export function fx(name: string): Tensor {
  const t = fixture[name];
  if (t === undefined) throw new Error(`nn.safetensors has no tensor "${name}" (re-run scripts/fixtures/make_nn_fixtures.py)`);
  return t;
}

/** Same dtype, shape and bytes. */
export function exact(actual: Tensor, expected: Tensor | string, what = String(expected)): void {
  const e = typeof expected === 'string' ? fx(expected) : expected;
  assert.equal(actual.dtype, e.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.shape], [...e.shape], `${what}: shape`);
  const a = actual.toArray();
  const b = e.toArray();
  assert.ok(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
    `${what}: values differ`,
  );
}

/**
 * Forward values and gradients go through convolutions and reductions whose summation order
 * depends on the thread count (the fixtures were made with one thread), so they are compared
 * within 1e-6 (observed: at most 1.2e-7), not bit for bit.
 */
export function close(actual: Tensor, name: string, atol = 1e-6): void {
  assert.equal(actual.dtype, fx(name).dtype, `${name}: dtype`);
  assertClose(actual, fx(name), atol, 1e-6, name);
}

/** repr() text without the parameter-count comments segkit's toString() adds. */
export const stripCounts = (s: string): string => s.replace(/ # [\d,]+ parameters$/gm, '');

export function seeded<T>(seed: number, make: () => T): T {
  torch.manualSeed(seed);
  return make();
}
