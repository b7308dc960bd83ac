// nn.InstanceNorm2d and nn.LayerNorm against PyTorch 1.13's modules (test/fixtures/nn/norms.json,
// made by scripts/fixtures/make_norm_fixtures.py): outputs, running statistics, keys, repr.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { torch, nn, type Tensor } from '../src/index.js';
import { FIXTURES, assertClose, assertThrows, tensorTest } from './helpers.js';

interface Case {
  input: number[];
  output?: number[];
  train_output?: number[];
  eval_output?: number[];
  running_mean?: number[];
  running_var?: number[];
  num_batches_tracked?: number;
  keys: string[];
  repr?: string;
}
const { cases } = JSON.parse(readFileSync(join(FIXTURES, 'nn', 'norms.json'), 'utf8')) as { cases: Record<string, Case> };

/** sin(0.37 * arange(n)) in the given shape: the input both sides build. */
const ramp = (shape: number[]): Tensor =>
  torch.tidy(() =>
    torch
      .arange(
        shape.reduce((a, b) => a * b, 1),
        { dtype: 'float32' },
      )
      .mul(0.37)
      .sin()
      .reshape(shape),
  );
const expected = (values: number[], shape: number[]): Tensor => torch.tensor(values, { dtype: 'float32' }).reshape(shape);

describe('nn.InstanceNorm2d', () => {
  tensorTest('defaults: per-image statistics, no parameters or buffers', () => {
    const c = cases.instance_default!;
    using m = new nn.InstanceNorm2d(3);
    assert.deepEqual(Object.keys(m.stateDict()), c.keys);
    torch.tidy(() => assertClose(m.forward(ramp(c.input)), expected(c.output!, c.input), 1e-5, 1e-5, 'output'));
  });

  tensorTest('affine with running statistics: training updates them, eval uses them', () => {
    const c = cases.instance_tracked!;
    using m = new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true, momentum: 0.2, eps: 1e-3 });
    assert.equal(m.toString(), c.repr);
    assert.deepEqual(Object.keys(m.stateDict()), c.keys);
    torch.tidy(() =>
      torch.noGrad(() => {
        m.getParameter('weight')!.copy_(torch.tensor([0.5, 1.0, 1.5]));
        m.getParameter('bias')!.copy_(torch.tensor([-0.1, 0.0, 0.1]));
      }),
    );
    torch.tidy(() => {
      const x = ramp(c.input);
      m.train().forward(x);
      assertClose(m.forward(x.mul(2).add(0.5)), expected(c.train_output!, c.input), 1e-5, 1e-5, 'training output');
      assertClose(m.getBuffer('running_mean')!, expected(c.running_mean!, [3]), 1e-6, 1e-5, 'running_mean');
      assertClose(m.getBuffer('running_var')!, expected(c.running_var!, [3]), 1e-6, 1e-5, 'running_var');
      assert.equal(m.getBuffer('num_batches_tracked')!.item(), c.num_batches_tracked);
      assertClose(m.eval().forward(x), expected(c.eval_output!, c.input), 1e-5, 1e-5, 'eval output');
    });
  });

  tensorTest('bad options and inputs name what was expected', () => {
    assertThrows(
      () => new nn.InstanceNorm2d(3, { momentum: 2 }),
      RangeError,
      /^InstanceNorm2d: momentum must be a number from 0 to 1, got 2$/,
    );
    assertThrows(() => new nn.InstanceNorm2d(3, { afine: true } as never), TypeError, /did you mean 'affine'\?/);
    using m = new nn.InstanceNorm2d(3);
    torch.tidy(() =>
      assertThrows(() => m.forward(torch.ones([2, 4, 3, 3])), RangeError, /expected 4-D input \(N, 3, H, W\), got shape \[2, 4, 3, 3\]/),
    );
  });
});

describe('nn.LayerNorm', () => {
  tensorTest('over the last two dimensions with an elementwise affine', () => {
    const c = cases.layer!;
    using m = new nn.LayerNorm([4, 5], { eps: 1e-4 });
    assert.equal(m.toString(), c.repr);
    assert.deepEqual(Object.keys(m.stateDict()), c.keys);
    torch.tidy(() =>
      torch.noGrad(() => {
        m.getParameter('weight')!.copy_(ramp([4, 5]).mul(0.5).add(1));
        m.getParameter('bias')!.copy_(ramp([4, 5]).mul(0.1));
      }),
    );
    torch.tidy(() => assertClose(m.forward(ramp(c.input)), expected(c.output!, c.input), 1e-5, 1e-5, 'output'));
  });

  tensorTest('without affine, over the last dimension given as a number', () => {
    const c = cases.layer_plain!;
    using m = new nn.LayerNorm(5, { elementwiseAffine: false });
    assert.equal(m.toString(), c.repr);
    assert.deepEqual(Object.keys(m.stateDict()), c.keys);
    torch.tidy(() => assertClose(m.forward(ramp(c.input)), expected(c.output!, c.input), 1e-5, 1e-5, 'output'));
    assertThrows(
      () => new nn.LayerNorm([4, 0]),
      RangeError,
      /^LayerNorm: normalizedShape must be an array of positive integers, got \[4, 0\]$/,
    );
  });
});
