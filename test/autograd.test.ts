// Autograd: finite-difference gradient checks (float64) of every differentiable op segkit's
// models use, then the semantics of requiresGrad, .grad, backward, grad modes and the graph.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, F, isTensor, type Tensor } from '../src/index.js';
import { tensorTest, assertThrows, assertClose } from './helpers.js';
import { gradcheck, uniform, distinct, type GradcheckOptions } from './gradcheck.js';

/** A tensor's values as plain numbers. */
const nums = (t: Tensor): number[] => Array.from(t.toArray() as unknown as ArrayLike<number>, Number);

const f64 = (data: number[] | number[][], shape?: number[]) =>
  torch.tensor(data as number[], { dtype: 'float64', ...(shape ? { shape } : {}) });
const long = (data: number[], shape?: number[]) => torch.tensor(data, { dtype: 'int64', ...(shape ? { shape } : {}) });

/** Runs gradcheck on inputs built by `make`, then disposes them (the test asserts no leaks). */
function check(name: string, make: () => Tensor[], fn: (...xs: Tensor[]) => Tensor, options?: GradcheckOptions): void {
  const inputs = make();
  try {
    const report = gradcheck(name, fn, inputs, options);
    assert.ok(report.checked > 0, `${name}: nothing was checked`);
  } finally {
    torch.dispose(inputs);
  }
}

// ------------------------------------------------------------------ the checker itself

describe('gradcheck helper', () => {
  tensorTest('accepts a correct gradient and reports what it compared', () => {
    const x = uniform([2, 3]);
    const r = gradcheck('square', (a) => a.mul(a), [x]);
    assert.equal(r.checked, 6);
    assert.ok(r.maxAbsError < 1e-8, `max error ${r.maxAbsError}`);
    x.dispose();
  });

  tensorTest('catches a wrong gradient (x * detach(x) has half the true gradient)', () => {
    const x = uniform([4], 0.5, 2);
    assert.throws(() => gradcheck('wrong', (a) => a.mul(a.detach()), [x]), /wrong: gradient of input 0 .*analytic .* vs numeric/);
    x.dispose();
  });

  tensorTest('catches a missing gradient (an input the graph ignores)', () => {
    const x = uniform([3]);
    assert.throws(
      () => gradcheck('detached', (a) => a.detach().mul(2).add(a.mul(0)).add(a.detach().mul(a.detach())), [x]),
      /detached: gradient of input 0/,
    );
    x.dispose();
  });
});

// ------------------------------------------------------------------ element-wise

describe('gradcheck: arithmetic with broadcasting', () => {
  tensorTest('add (with alpha), sub', () => {
    check(
      'add',
      () => [uniform([2, 3]), uniform([3], -1, 1, 8)],
      (a, b) => a.add(b, { alpha: 2 }),
    );
    check(
      'add scalar',
      () => [uniform([2, 3])],
      (a) => a.add(3),
    );
    check(
      'sub',
      () => [uniform([2, 3]), uniform([2, 1], -1, 1, 8)],
      (a, b) => a.sub(b),
    );
    check(
      'rsub',
      () => [uniform([4])],
      (a) => a.rsub(1),
    );
  });

  tensorTest('mul, div', () => {
    check(
      'mul',
      () => [uniform([2, 3]), uniform([3], -1, 1, 8)],
      (a, b) => a.mul(b),
    );
    check(
      'div',
      () => [uniform([2, 3]), uniform([3], 0.5, 2, 8)],
      (a, b) => a.div(b),
    );
    check(
      'div scalar',
      () => [uniform([2, 3])],
      (a) => a.div(4),
    );
  });

  tensorTest('pow: tensor ** number, tensor ** tensor, number ** tensor', () => {
    check(
      'pow 3',
      () => [uniform([5], -2, 2)],
      (a) => a.pow(3),
    );
    check(
      'pow 2.5',
      () => [uniform([5], 0.5, 2)],
      (a) => a.pow(2.5),
    );
    check(
      'pow -1.5',
      () => [uniform([5], 0.5, 2)],
      (a) => a.pow(-1.5),
    );
    check(
      'pow tensor',
      () => [uniform([2, 3], 0.5, 2), uniform([3], -1, 2, 8)],
      (a, b) => a.pow(b),
    );
    check(
      'pow scalar base',
      () => [uniform([4])],
      (a) => torch.pow(2, a),
    );
  });
});

describe('gradcheck: unary functions and activations', () => {
  tensorTest('exp, log, sqrt', () => {
    check(
      'exp',
      () => [uniform([2, 3])],
      (a) => a.exp(),
    );
    check(
      'log',
      () => [uniform([2, 3], 0.2, 3)],
      (a) => a.log(),
    );
    check(
      'sqrt',
      () => [uniform([2, 3], 0.2, 3)],
      (a) => a.sqrt(),
    );
  });

  tensorTest('sigmoid, tanh, relu (away from 0), leakyRelu', () => {
    check(
      'sigmoid',
      () => [uniform([2, 3], -3, 3)],
      (a) => a.sigmoid(),
    );
    check(
      'tanh',
      () => [uniform([2, 3], -2, 2)],
      (a) => a.tanh(),
    );
    check(
      'relu',
      () => [distinct([2, 5])],
      (a) => a.relu(),
    );
    check(
      'F.relu',
      () => [distinct([2, 5])],
      (a) => F.relu(a),
    );
    check(
      'leakyRelu',
      () => [distinct([2, 5])],
      (a) => a.leakyRelu(0.2),
    );
    check(
      'leakyRelu default slope',
      () => [distinct([2, 5])],
      (a) => F.leakyRelu(a),
    );
  });

  tensorTest('gelu (exact and tanh), silu', () => {
    check(
      'gelu',
      () => [uniform([2, 4], -3, 3)],
      (a) => a.gelu(),
    );
    check(
      'gelu tanh',
      () => [uniform([2, 4], -3, 3)],
      (a) => F.gelu(a, { approximate: 'tanh' }),
    );
    check(
      'silu',
      () => [uniform([2, 4], -3, 3)],
      (a) => a.silu(),
    );
  });

  tensorTest('softmax, logSoftmax over each dim', () => {
    check(
      'softmax dim 1',
      () => [uniform([2, 4], -2, 2)],
      (a) => a.softmax(1),
    );
    check(
      'softmax dim 0',
      () => [uniform([3, 2], -2, 2)],
      (a) => F.softmax(a, 0),
    );
    check(
      'softmax dim -1 of 3-D',
      () => [uniform([2, 2, 3], -2, 2)],
      (a) => a.softmax(-1),
    );
    check(
      'logSoftmax dim 1',
      () => [uniform([2, 4], -2, 2)],
      (a) => a.logSoftmax(1),
    );
    check(
      'logSoftmax dim 0',
      () => [uniform([3, 2], -2, 2)],
      (a) => F.logSoftmax(a, 0),
    );
  });
});

// ------------------------------------------------------------------ reductions, matmul

describe('gradcheck: reductions', () => {
  tensorTest('sum and mean, whole tensor and over dims', () => {
    check(
      'sum',
      () => [uniform([2, 3])],
      (a) => a.sum(),
    );
    check(
      'sum dim',
      () => [uniform([2, 3, 2])],
      (a) => a.sum({ dim: 1 }),
    );
    check(
      'sum dims keepdim',
      () => [uniform([2, 3, 2])],
      (a) => a.sum({ dim: [0, 2], keepdim: true }),
    );
    check(
      'mean',
      () => [uniform([2, 3])],
      (a) => a.mean(),
    );
    check(
      'mean dim',
      () => [uniform([2, 3, 2])],
      (a) => a.mean({ dim: [0, 2] }),
    );
  });

  tensorTest('std and var (Bessel and population)', () => {
    check(
      'std',
      () => [uniform([2, 4])],
      (a) => a.std(),
    );
    check(
      'std dim',
      () => [uniform([3, 4])],
      (a) => a.std({ dim: 1 }),
    );
    check(
      'var',
      () => [uniform([2, 4])],
      (a) => a.var(),
    );
    check(
      'var dim correction 0',
      () => [uniform([3, 4])],
      (a) => a.var({ dim: 0, correction: 0 }),
    );
    check(
      'torch.var keepdim',
      () => [uniform([3, 4])],
      (a) => torch.var(a, { dim: 1, keepdim: true, unbiased: false }),
    );
  });

  tensorTest('max over a dim (values) and over everything', () => {
    check(
      'max dim',
      () => [distinct([3, 4])],
      (a) => a.max({ dim: 1 }).values,
    );
    check(
      'max dim keepdim',
      () => [distinct([3, 4])],
      (a) => a.max({ dim: 0, keepdim: true }).values,
    );
    check(
      'max all',
      () => [distinct([3, 4])],
      (a) => a.max(),
    );
    check(
      'maximum',
      () => [distinct([6], 0.05, 1), torch.tidy(() => distinct([6], 0.05, 2).add(0.025))],
      (a, b) => a.max(b),
    );
  });
});

describe('gradcheck: matmul', () => {
  tensorTest('matrix, batched, vector', () => {
    check(
      'matmul 2-D',
      () => [uniform([3, 4]), uniform([4, 2], -1, 1, 8)],
      (a, b) => a.matmul(b),
    );
    check(
      'matmul batched x 2-D',
      () => [uniform([2, 3, 4]), uniform([4, 2], -1, 1, 8)],
      (a, b) => a.matmul(b),
    );
    check(
      'matmul vector x matrix',
      () => [uniform([4]), uniform([4, 3], -1, 1, 8)],
      (a, b) => torch.matmul(a, b),
    );
    check(
      'mm',
      () => [uniform([2, 3]), uniform([3, 2], -1, 1, 8)],
      (a, b) => a.mm(b),
    );
  });
});

// ------------------------------------------------------------------ views and joins

describe('gradcheck: views, indexing and joins', () => {
  tensorTest('permute, reshape, narrow, select', () => {
    check(
      'permute',
      () => [uniform([2, 3, 4])],
      (a) => a.permute([2, 0, 1]),
    );
    check(
      'reshape',
      () => [uniform([2, 3, 4])],
      (a) => a.permute([1, 0, 2]).reshape([6, 4]),
    );
    check(
      'view',
      () => [uniform([2, 6])],
      (a) => a.view([3, 4]),
    );
    check(
      'narrow',
      () => [uniform([4, 5])],
      (a) => a.narrow(1, 1, 3),
    );
    check(
      'select',
      () => [uniform([4, 5])],
      (a) => a.select(0, 2),
    );
    check(
      'select negative',
      () => [uniform([4, 5])],
      (a) => a.select(-1, -1),
    );
  });

  tensorTest('gather (with repeated indices), indexSelect', () => {
    const idx = long([0, 0, 2, 1, 1, 1], [2, 3]);
    check(
      'gather',
      () => [uniform([2, 4])],
      (a) => a.gather(1, idx),
    );
    const rows = long([2, 0, 2]);
    check(
      'indexSelect',
      () => [uniform([3, 2])],
      (a) => a.indexSelect(0, rows),
    );
    torch.dispose([idx, rows]);
  });

  tensorTest('cat and stack', () => {
    check(
      'cat dim 0',
      () => [uniform([2, 3]), uniform([1, 3], -1, 1, 8)],
      (a, b) => torch.cat([a, b], 0),
    );
    check(
      'cat dim 1',
      () => [uniform([2, 3]), uniform([2, 2], -1, 1, 8)],
      (a, b) => torch.cat([a, b, a], 1),
    );
    check(
      'stack',
      () => [uniform([2, 3]), uniform([2, 3], -1, 1, 8)],
      (a, b) => torch.stack([a, b], 1),
    );
  });

  tensorTest('flip, roll, transpose, expand', () => {
    check(
      'flip',
      () => [uniform([3, 4])],
      (a) => a.flip([0, 1]),
    );
    check(
      'roll',
      () => [uniform([3, 4])],
      (a) => a.roll([1, -2], [0, 1]),
    );
    check(
      'roll flat',
      () => [uniform([3, 4])],
      (a) => a.roll(5),
    );
    check(
      'transpose',
      () => [uniform([3, 4])],
      (a) => a.transpose(0, 1),
    );
    check(
      'expand',
      () => [uniform([3, 1])],
      (a) => a.expand([3, 4]),
    );
  });
});

// ------------------------------------------------------------------ nn.functional

describe('gradcheck: convolutions and linear', () => {
  tensorTest('conv2d: bias, stride, padding, dilation', () => {
    const x = () => uniform([1, 2, 6, 6]);
    const w = () => uniform([3, 2, 3, 3], -1, 1, 8);
    const b = () => uniform([3], -1, 1, 9);
    check(
      'conv2d',
      () => [x(), w(), b()],
      (a, ww, bb) => F.conv2d(a, ww, { bias: bb }),
    );
    check(
      'conv2d stride 2 padding 1',
      () => [x(), w()],
      (a, ww) => F.conv2d(a, ww, { stride: 2, padding: 1 }),
    );
    check(
      'conv2d asymmetric stride/padding',
      () => [x(), w()],
      (a, ww) => F.conv2d(a, ww, { stride: [2, 1], padding: [0, 2] }),
    );
    check(
      'conv2d dilation 2',
      () => [x(), w(), b()],
      (a, ww, bb) => F.conv2d(a, ww, { bias: bb, dilation: 2, padding: 2 }),
    );
    check(
      "conv2d padding 'same'",
      () => [x(), w()],
      (a, ww) => F.conv2d(a, ww, { padding: 'same' }),
    );
  });

  tensorTest('conv2d: groups, 3-D input', () => {
    check(
      'conv2d groups 2',
      () => [uniform([2, 4, 5, 5]), uniform([4, 2, 3, 3], -1, 1, 8), uniform([4], -1, 1, 9)],
      (a, w, b) => F.conv2d(a, w, { bias: b, groups: 2, padding: 1 }),
    );
    check(
      'conv2d depthwise',
      () => [uniform([1, 3, 4, 4]), uniform([3, 1, 3, 3], -1, 1, 8)],
      (a, w) => F.conv2d(a, w, { groups: 3 }),
    );
    check(
      'conv2d unbatched',
      () => [uniform([2, 4, 4]), uniform([1, 2, 3, 3], -1, 1, 8)],
      (a, w) => F.conv2d(a, w),
    );
  });

  tensorTest('convTranspose2d: stride, padding, outputPadding, groups, dilation', () => {
    check(
      'convTranspose2d',
      () => [uniform([1, 2, 3, 3]), uniform([2, 3, 3, 3], -1, 1, 8), uniform([3], -1, 1, 9)],
      (a, w, b) => F.convTranspose2d(a, w, { bias: b }),
    );
    check(
      'convTranspose2d stride 2 padding 1 outputPadding 1',
      () => [uniform([1, 2, 3, 3]), uniform([2, 3, 3, 3], -1, 1, 8)],
      (a, w) => F.convTranspose2d(a, w, { stride: 2, padding: 1, outputPadding: 1 }),
    );
    check(
      'convTranspose2d groups 2',
      () => [uniform([1, 4, 3, 3]), uniform([4, 1, 2, 2], -1, 1, 8)],
      (a, w) => F.convTranspose2d(a, w, { groups: 2, stride: 2 }),
    );
    check(
      'convTranspose2d dilation 2',
      () => [uniform([1, 2, 3, 3]), uniform([2, 2, 2, 2], -1, 1, 8)],
      (a, w) => F.convTranspose2d(a, w, { dilation: 2 }),
    );
  });

  tensorTest('linear: with and without bias, batched input', () => {
    check(
      'linear',
      () => [uniform([3, 4]), uniform([2, 4], -1, 1, 8), uniform([2], -1, 1, 9)],
      (a, w, b) => F.linear(a, w, b),
    );
    check(
      'linear no bias, 3-D input',
      () => [uniform([2, 3, 4]), uniform([5, 4], -1, 1, 8)],
      (a, w) => F.linear(a, w),
    );
  });
});

describe('gradcheck: normalisation', () => {
  tensorTest('batchNorm in training mode (batch statistics), with and without running stats', () => {
    const rm = torch.zeros([3], { dtype: 'float64' });
    const rv = torch.ones([3], { dtype: 'float64' });
    check(
      'batchNorm training',
      () => [uniform([4, 3, 2, 2]), uniform([3], 0.5, 1.5, 8), uniform([3], -1, 1, 9)],
      (a, w, b) => F.batchNorm(a, rm, rv, { weight: w, bias: b, training: true }),
    );
    // The running stats moved (training mode updates them in place), which must not change the output.
    assert.ok(torch.tidy(() => rm.abs().sum().item()) > 0, 'runningMean was updated');
    check(
      'batchNorm training, no running stats, 2-D input',
      () => [uniform([5, 3])],
      (a) => F.batchNorm(a, null, null, { training: true, eps: 1e-3 }),
    );
    torch.dispose([rm, rv]);
  });

  tensorTest('batchNorm in eval mode (running statistics)', () => {
    const rm = f64([0.1, -0.2, 0.3]);
    const rv = f64([0.5, 1.5, 2]);
    check(
      'batchNorm eval',
      () => [uniform([2, 3, 2, 2]), uniform([3], 0.5, 1.5, 8), uniform([3], -1, 1, 9)],
      (a, w, b) => F.batchNorm(a, rm, rv, { weight: w, bias: b }),
    );
    torch.dispose([rm, rv]);
  });

  tensorTest('groupNorm with affine parameters', () => {
    check(
      'groupNorm',
      () => [uniform([2, 4, 3, 3]), uniform([4], 0.5, 1.5, 8), uniform([4], -1, 1, 9)],
      (a, w, b) => F.groupNorm(a, 2, { weight: w, bias: b }),
    );
    check(
      'groupNorm 1 group, no affine',
      () => [uniform([2, 4, 2, 2])],
      (a) => F.groupNorm(a, 1),
    );
  });
});

describe('gradcheck: pooling, resampling, padding', () => {
  tensorTest('maxPool2d (distinct values: no ties)', () => {
    check(
      'maxPool2d 2',
      () => [distinct([1, 2, 6, 6], 0.01)],
      (a) => F.maxPool2d(a, 2),
    );
    check(
      'maxPool2d 3 stride 2 padding 1',
      () => [distinct([1, 2, 5, 5], 0.01)],
      (a) => F.maxPool2d(a, 3, { stride: 2, padding: 1 }),
    );
    check(
      'maxPool2d ceilMode',
      () => [distinct([1, 1, 5, 5], 0.01)],
      (a) => F.maxPool2d(a, 2, { ceilMode: true }),
    );
  });

  tensorTest('avgPool2d', () => {
    check(
      'avgPool2d 2',
      () => [uniform([1, 2, 4, 4])],
      (a) => F.avgPool2d(a, 2),
    );
    check(
      'avgPool2d 3 stride 2 padding 1 countIncludePad false',
      () => [uniform([1, 2, 5, 5])],
      (a) => F.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }),
    );
    check(
      'avgPool2d ceilMode',
      () => [uniform([1, 1, 5, 5])],
      (a) => F.avgPool2d(a, 2, { ceilMode: true }),
    );
  });

  tensorTest('adaptiveAvgPool2d (uneven bins)', () => {
    check(
      'adaptiveAvgPool2d',
      () => [uniform([1, 2, 7, 5])],
      (a) => F.adaptiveAvgPool2d(a, [3, 2]),
    );
    check(
      'adaptiveAvgPool2d 1',
      () => [uniform([2, 2, 3, 3])],
      (a) => F.adaptiveAvgPool2d(a, 1),
    );
    check(
      'adaptiveAvgPool2d null keeps a dim',
      () => [uniform([1, 1, 4, 3])],
      (a) => F.adaptiveAvgPool2d(a, [2, null]),
    );
  });

  tensorTest('interpolate bilinear: size / scaleFactor, alignCorners on and off', () => {
    check(
      'bilinear size',
      () => [uniform([1, 2, 3, 4])],
      (a) => F.interpolate(a, { size: [5, 7], mode: 'bilinear' }),
    );
    check(
      'bilinear alignCorners',
      () => [uniform([1, 2, 3, 4])],
      (a) => F.interpolate(a, { size: [5, 7], mode: 'bilinear', alignCorners: true }),
    );
    check(
      'bilinear scaleFactor 2',
      () => [uniform([1, 1, 3, 3])],
      (a) => F.interpolate(a, { scaleFactor: 2, mode: 'bilinear' }),
    );
    check(
      'bilinear downsample',
      () => [uniform([1, 1, 6, 5])],
      (a) => F.interpolate(a, { size: [3, 2], mode: 'bilinear' }),
    );
  });

  tensorTest('pad reflect (and constant, replicate)', () => {
    check(
      'pad reflect',
      () => [uniform([1, 2, 4, 5])],
      (a) => F.pad(a, [1, 2, 3, 1], { mode: 'reflect' }),
    );
    check(
      'pad reflect last dim only',
      () => [uniform([1, 2, 4])],
      (a) => F.pad(a, [2, 3], { mode: 'reflect' }),
    );
    check(
      'pad constant',
      () => [uniform([1, 1, 3, 3])],
      (a) => F.pad(a, [1, 1, 2, 0], { value: 0.5 }),
    );
    check(
      'pad replicate',
      () => [uniform([1, 1, 3, 3])],
      (a) => F.pad(a, [2, 1, 1, 2], { mode: 'replicate' }),
    );
  });
});

describe('gradcheck: losses', () => {
  tensorTest('binaryCrossEntropyWithLogits: input and target, reductions, posWeight, weight', () => {
    const input = () => uniform([2, 3, 2], -3, 3);
    const target = () => uniform([2, 3, 2], 0, 1, 8);
    check(
      'bceWithLogits mean',
      () => [input(), target()],
      (x, y) => F.binaryCrossEntropyWithLogits(x, y),
    );
    check(
      'bceWithLogits sum',
      () => [input(), target()],
      (x, y) => F.binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }),
    );
    check(
      'bceWithLogits none',
      () => [input(), target()],
      (x, y) => F.binaryCrossEntropyWithLogits(x, y, { reduction: 'none' }),
    );
    const pw = f64([2, 0.5], [2]);
    const wt = f64([1, 2, 3], [3, 1]);
    check(
      'bceWithLogits posWeight/weight',
      () => [input(), target()],
      (x, y) => F.binaryCrossEntropyWithLogits(x, y, { posWeight: pw, weight: wt }),
    );
    torch.dispose([pw, wt]);
  });

  tensorTest('crossEntropy: class indices (N, C) and (N, C, H, W), with ignoreIndex, weight, label smoothing', () => {
    const t1 = long([0, 2, 1, 2]);
    check(
      'crossEntropy (N, C)',
      () => [uniform([4, 3], -2, 2)],
      (x) => F.crossEntropy(x, t1),
    );
    const t2 = long([0, 255, 2, 1, 255, 0, 1, 1], [2, 2, 2]);
    check(
      'crossEntropy (N, C, H, W) ignoreIndex',
      () => [uniform([2, 3, 2, 2], -2, 2)],
      (x) => F.crossEntropy(x, t2, { ignoreIndex: 255 }),
    );
    check(
      'crossEntropy ignoreIndex sum',
      () => [uniform([2, 3, 2, 2], -2, 2)],
      (x) => F.crossEntropy(x, t2, { ignoreIndex: 255, reduction: 'sum' }),
    );
    const wt = f64([0.5, 1, 2]);
    check(
      'crossEntropy weight + ignoreIndex',
      () => [uniform([2, 3, 2, 2], -2, 2)],
      (x) => F.crossEntropy(x, t2, { ignoreIndex: 255, weight: wt }),
    );
    check(
      'crossEntropy labelSmoothing',
      () => [uniform([4, 3], -2, 2)],
      (x) => F.crossEntropy(x, t1, { labelSmoothing: 0.1 }),
    );
    check(
      'crossEntropy probabilities',
      () => [uniform([4, 3], -2, 2), torch.tidy(() => uniform([4, 3], 0, 1, 8).softmax(1))],
      (x, p) => F.crossEntropy(x, p),
    );
    torch.dispose([t1, t2, wt]);
  });

  tensorTest('crossEntropy: ignored pixels get exactly zero gradient and do not count in the mean', () => {
    torch.tidy(() => {
      const x = uniform([1, 3, 2, 2], -2, 2).requiresGrad_();
      const t = long([1, -100, 2, -100], [1, 2, 2]);
      const loss = F.crossEntropy(x, t);
      loss.backward();
      const g = x.grad!;
      // pixels 1 and 3 are ignored: their whole channel column of the gradient is 0
      for (const c of [0, 1, 2]) {
        assert.equal(g.select(1, c).flatten().select(0, 1).item(), 0);
        assert.equal(g.select(1, c).flatten().select(0, 3).item(), 0);
      }
      // mean over the 2 valid pixels only
      const manual = F.crossEntropy(
        x
          .permute([0, 2, 3, 1])
          .reshape([4, 3])
          .indexSelect(0, long([0, 2])),
        long([1, 2]),
      );
      assertClose(loss, manual, 1e-12, 0, 'mean over non-ignored pixels');
    });
  });

  tensorTest('nllLoss with ignoreIndex and weight', () => {
    const t = long([0, 2, 1, 2, 0]);
    check(
      'nllLoss',
      () => [uniform([5, 3], -2, 2)],
      (x) => F.nllLoss(x.logSoftmax(1), t),
    );
    check(
      'nllLoss ignoreIndex',
      () => [uniform([5, 3], -2, 2)],
      (x) => F.nllLoss(x, t, { ignoreIndex: 2 }),
    );
    const wt = f64([1, 0.5, 2]);
    check(
      'nllLoss weight sum',
      () => [uniform([5, 3], -2, 2)],
      (x) => F.nllLoss(x, t, { weight: wt, reduction: 'sum' }),
    );
    const t2 = long([0, 2, 1, 2], [1, 2, 2]);
    check(
      'nllLoss (N, C, H, W)',
      () => [uniform([1, 3, 2, 2], -2, 2)],
      (x) => F.nllLoss(x, t2),
    );
    torch.dispose([t, wt, t2]);
  });

  tensorTest('a small composite: conv -> groupNorm -> relu -> pool -> upsample -> CE', () => {
    const t = long([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0], [1, 4, 4]);
    check(
      'composite',
      () => [uniform([1, 2, 4, 4]), uniform([4, 2, 3, 3], -0.5, 0.5, 8), uniform([2, 4, 1, 1], -1, 1, 9)],
      (x, w1, w2) => {
        const h = F.groupNorm(F.conv2d(x, w1, { padding: 1 }), 2).tanh();
        const p = F.avgPool2d(h, 2);
        return F.crossEntropy(F.interpolate(F.conv2d(p, w2), { size: [4, 4], mode: 'bilinear' }), t);
      },
      { atol: 1e-6 },
    );
    t.dispose();
  });
});

// ------------------------------------------------------------------ semantics

describe('autograd semantics: requiresGrad', () => {
  tensorTest('the requiresGrad factory option, default false', () => {
    torch.tidy(() => {
      assert.equal(torch.ones([2]).requiresGrad, false);
      assert.equal(torch.ones([2], { requiresGrad: true }).requiresGrad, true);
      assert.equal(torch.zeros([2], { requiresGrad: false }).requiresGrad, false);
      assert.equal(torch.tensor([1, 2], { requiresGrad: true }).requiresGrad, true);
      assert.equal(torch.tensor([1, 2], { dtype: 'float64', requiresGrad: true }).requiresGrad, true);
      assert.equal(torch.randn([2, 2], { requiresGrad: true }).requiresGrad, true);
      assert.equal(torch.full([2], 3, { requiresGrad: true }).requiresGrad, true);
      assert.equal(torch.zerosLike(torch.ones([2]), { requiresGrad: true }).requiresGrad, true);
    });
  });

  tensorTest('requiresGrad_(flag) sets the flag in place and returns the same tensor', () => {
    torch.tidy(() => {
      const t = torch.ones([2]);
      assert.equal(t.requiresGrad_(true), t);
      assert.equal(t.requiresGrad, true);
      assert.equal(t.requiresGrad_(false), t);
      assert.equal(t.requiresGrad, false);
      assert.equal(t.requiresGrad_(), t, 'the flag defaults to true');
      assert.equal(t.requiresGrad, true);
      t.requiresGrad = false;
      assert.equal(t.requiresGrad, false);
      assertThrows(() => t.requiresGrad_('yes' as unknown as boolean), TypeError, /requiresGrad_: flag must be true or false, got 'yes'/);
    });
  });

  tensorTest('results require grad when an input does; detach() cuts the graph', () => {
    torch.tidy(() => {
      const a = torch.ones([2], { requiresGrad: true });
      const b = torch.ones([2]);
      assert.equal(a.add(b).requiresGrad, true);
      assert.equal(b.add(b).requiresGrad, false);
      const d = a.mul(2).detach();
      assert.equal(d.requiresGrad, false);
      assert.equal(d.isLeaf, true);
      assert.equal(d.gradFn, null);
    });
  });
});

describe('autograd semantics: .grad', () => {
  tensorTest('null before backward; the same object on repeated reads; accumulates over backwards', () => {
    const x = f64([1, 2, 3]).requiresGrad_();
    assert.equal(x.grad, null);
    torch.tidy(() => x.mul(2).sum().backward());
    const g: Tensor = x.grad!;
    assert.ok(isTensor(g));
    assert.ok(x.grad === g, 'a second read returns the same Tensor object');
    assert.ok(x.grad === g);
    assert.deepEqual(nums(g), [2, 2, 2]);
    torch.tidy(() => x.mul(x).sum().backward());
    assert.ok(x.grad === g, 'accumulation keeps the same .grad object');
    assert.deepEqual(nums(x.grad!), [4, 6, 8], '2 + 2x accumulated');
    const disposed = (t: Tensor): boolean => t.isDisposed;
    assert.equal(disposed(g), false);
    x.dispose();
    assert.equal(disposed(g), true, 'the .grad handle belongs to its tensor');
  });

  tensorTest('t.grad = null clears the gradient; the next backward starts from zero', () => {
    const x = f64([1, 2]).requiresGrad_();
    torch.tidy(() => x.mul(5).sum().backward());
    assert.deepEqual(nums(x.grad!), [5, 5]);
    x.grad = null;
    assert.equal(x.grad, null);
    assert.equal(x.grad, null);
    torch.tidy(() => x.mul(3).sum().backward());
    assert.deepEqual(nums(x.grad!), [3, 3]);
    x.dispose();
  });

  tensorTest('grad.zero_() zeroes in place and keeps the object', () => {
    const x = f64([1, 2]).requiresGrad_();
    torch.tidy(() => x.mul(5).sum().backward());
    const g = x.grad!;
    g.zero_();
    assert.equal(x.grad, g);
    assert.deepEqual(nums(x.grad!), [0, 0]);
    torch.tidy(() => x.mul(3).sum().backward());
    assert.equal(x.grad, g);
    assert.deepEqual(nums(g), [3, 3]);
    x.dispose();
  });

  tensorTest('assigning a grad tensor: backward accumulates into it; wrong shape or type is refused', () => {
    const x = f64([1, 2]).requiresGrad_();
    const start = f64([10, 20]);
    x.grad = start;
    assert.deepEqual(nums(x.grad!), [10, 20]);
    torch.tidy(() => x.mul(1).sum().backward());
    assert.deepEqual(nums(x.grad!), [11, 21]);
    torch.tidy(() => {
      assertThrows(
        () => {
          x.grad = f64([1, 2, 3]);
        },
        RangeError,
        /grad/,
        /\[3\]/,
        /\[2\]/,
      );
      assertThrows(
        () => {
          x.grad = torch.ones([2]);
        },
        RangeError,
        /grad/,
        /float32/,
        /float64/,
      );
      assertThrows(
        () => {
          x.grad = 5 as unknown as Tensor;
        },
        TypeError,
        /grad/,
        /Tensor or null/,
      );
    });
    torch.dispose([x, start]);
  });

  tensorTest('.grad of a non-leaf is null and a tensor that does not require grad never gets one', () => {
    torch.tidy(() => {
      const x = torch.ones([2], { requiresGrad: true });
      const y = x.mul(2);
      const c = torch.ones([2]);
      y.mul(c).sum().backward();
      assert.equal(y.grad, null);
      assert.equal(c.grad, null);
      assert.ok(x.grad !== null);
    });
  });
});

describe('autograd semantics: backward', () => {
  tensorTest('backward(gradient) on a non-scalar output computes a vector-Jacobian product', () => {
    torch.tidy(() => {
      const x = f64([1, 2, 3]).requiresGrad_();
      const y = x.mul(x);
      y.backward(f64([1, 10, 100]));
      assert.deepEqual(nums(x.grad!), [2, 40, 600]);
    });
  });

  tensorTest('backward() without a gradient on a non-scalar output is an Error naming the shape', () => {
    torch.tidy(() => {
      const x = torch.ones([2, 3], { requiresGrad: true });
      const y = x.mul(2);
      assertThrows(() => y.backward(), Error, /backward/, /scalar/, /\[2, 3\]/);
      assertThrows(() => y.backward(torch.ones([3])), RangeError, /backward/, /gradient/, /\[3\]/, /\[2, 3\]/);
      assertThrows(() => y.backward([1, 2] as unknown as Tensor), TypeError, /backward/, /gradient/, /Tensor/);
      // A one-element non-0-d output needs no gradient.
      x.mul(2)
        .sum({ dim: [0, 1], keepdim: true })
        .backward();
      assert.deepEqual(nums(x.grad!), [2, 2, 2, 2, 2, 2]);
    });
  });

  tensorTest('a second backward through the same graph needs retainGraph', () => {
    torch.tidy(() => {
      const x = f64([1, 2]).requiresGrad_();
      const y = x.exp().sum();
      y.backward();
      assertThrows(() => y.backward(), Error, /backward/, /second time/, /retain_?[gG]raph/);
      x.grad = null;
      const z = x.mul(x).sum();
      z.backward(null, { retainGraph: true });
      z.backward(null, { retainGraph: true });
      z.backward();
      assert.deepEqual(nums(x.grad!), [6, 12], 'three accumulated backwards of 2x');
      assertThrows(() => z.backward(), Error, /backward/, /second time/);
    });
  });

  tensorTest('backward on a tensor that does not require grad is an Error', () => {
    torch.tidy(() => {
      const y = torch.ones([2]).sum();
      assertThrows(() => y.backward(), Error, /backward/, /does not require grad/);
    });
  });

  tensorTest('torch.autograd.backward([a, b]) sums the gradients of several outputs', () => {
    torch.tidy(() => {
      const x = f64([1, 2, 3]).requiresGrad_();
      const a = x.mul(2).sum();
      const b = x.mul(x).sum();
      torch.autograd.backward([a, b]);
      assert.deepEqual(nums(x.grad!), [4, 6, 8]);
      x.grad = null;
      const c = x.mul(3);
      const d = x.sum();
      torch.autograd.backward([c, d], [f64([1, 0, 1]), null]);
      assert.deepEqual(nums(x.grad!), [4, 1, 4]);
      assertThrows(() => torch.autograd.backward([x.mul(2)], [null, null]), RangeError, /autograd\.backward/, /1 tensors but 2 gradients/);
      assertThrows(
        () => torch.autograd.backward([5 as unknown as Tensor]),
        TypeError,
        /autograd\.backward: tensors\[0\] must be a Tensor, got 5/,
      );
    });
  });
});

describe('autograd semantics: grad modes', () => {
  tensorTest("torch.noGrad returns fn's value; outputs inside do not require grad; the mode is restored", () => {
    torch.tidy(() => {
      const x = torch.ones([2], { requiresGrad: true });
      assert.equal(torch.isGradEnabled(), true);
      const r = torch.noGrad(() => {
        assert.equal(torch.isGradEnabled(), false);
        const y = x.mul(2);
        assert.equal(y.requiresGrad, false);
        assert.equal(y.gradFn, null);
        return { y, n: 42 };
      });
      assert.equal(r.n, 42);
      assert.equal(r.y.requiresGrad, false);
      assert.equal(torch.isGradEnabled(), true);
      assert.equal(
        torch.noGrad(() => 'value'),
        'value',
      );
      assert.throws(
        () =>
          torch.noGrad(() => {
            throw new RangeError('inner');
          }),
        RangeError,
      );
      assert.equal(torch.isGradEnabled(), true, 'restored after a throw');
      assert.equal(x.mul(2).requiresGrad, true);
    });
  });

  tensorTest('torch.enableGrad re-enables recording inside noGrad', () => {
    torch.tidy(() => {
      const x = torch.ones([2], { requiresGrad: true });
      const [outer, inner, value] = torch.noGrad(() => {
        const o = x.mul(2);
        const [i, v] = torch.enableGrad(() => {
          assert.equal(torch.isGradEnabled(), true);
          return [x.mul(3), 7] as const;
        });
        assert.equal(torch.isGradEnabled(), false);
        return [o, i, v] as const;
      });
      assert.equal(value, 7);
      assert.equal(outer.requiresGrad, false);
      assert.equal(inner.requiresGrad, true);
      assert.equal(inner.gradFn, 'MulBackward1');
      inner.sum().backward();
      assert.deepEqual(nums(x.grad!), [3, 3]);
    });
  });

  tensorTest("torch.inferenceMode returns fn's value and records nothing", () => {
    torch.tidy(() => {
      const x = torch.ones([2], { requiresGrad: true });
      assert.equal(torch.isInferenceModeEnabled(), false);
      const y = torch.inferenceMode(() => {
        assert.equal(torch.isInferenceModeEnabled(), true);
        assert.equal(torch.isGradEnabled(), false);
        return x.mul(2).add(1);
      });
      assert.equal(y.requiresGrad, false);
      assert.equal(y.gradFn, null);
      assert.deepEqual(nums(y), [3, 3]);
      assert.equal(torch.isInferenceModeEnabled(), false);
      assert.equal(torch.isGradEnabled(), true);
      assert.equal(
        torch.inferenceMode(() => 5),
        5,
      );
    });
  });

  tensorTest('grad-mode functions refuse non-functions and async functions', () => {
    assertThrows(() => torch.noGrad(5 as unknown as () => void), TypeError, /noGrad/, /function/);
    assertThrows(() => torch.enableGrad(null as unknown as () => void), TypeError, /enableGrad/, /function/);
    assertThrows(() => torch.inferenceMode('x' as unknown as () => void), TypeError, /inferenceMode/, /function/);
    assertThrows(() => torch.noGrad(async () => 1), TypeError, /noGrad/, /synchronous/);
    assert.equal(torch.isGradEnabled(), true);
  });
});

describe('autograd semantics: graph inspection', () => {
  tensorTest('isLeaf and gradFn names', () => {
    torch.tidy(() => {
      const x = torch.ones([2, 3], { requiresGrad: true });
      const c = torch.ones([2, 3]);
      assert.equal(x.isLeaf, true);
      assert.equal(x.gradFn, null);
      assert.equal(c.isLeaf, true, 'a tensor that does not require grad is a leaf');
      const cases: [Tensor, string][] = [
        [x.add(c), 'AddBackward0'],
        [x.add(1), 'AddBackward1'],
        [x.sub(c), 'SubBackward0'],
        [x.mul(c), 'MulBackward0'],
        [x.mul(2), 'MulBackward1'],
        [x.div(c), 'DivBackward0'],
        [x.pow(2), 'PowBackward0'],
        [x.exp(), 'ExpBackward0'],
        [x.sigmoid(), 'SigmoidBackward0'],
        [x.relu(), 'ReluBackward0'],
        [x.sum(), 'SumBackward0'],
        [x.sum({ dim: 1 }), 'SumBackward1'],
        [x.mean(), 'MeanBackward0'],
        [x.matmul(c.t()), 'MmBackward0'],
        [x.permute([1, 0]), 'PermuteBackward0'],
        [x.select(0, 1), 'SelectBackward0'],
        [x.view([6]), 'ViewBackward0'],
        [x.flip(0), 'FlipBackward0'],
        [torch.cat([x, c]), 'CatBackward0'],
        [x.softmax(1), 'SoftmaxBackward0'],
        [x.logSoftmax(1), 'LogSoftmaxBackward0'],
      ];
      for (const [t, name] of cases) {
        assert.equal(t.gradFn, name);
        assert.equal(t.isLeaf, false, name);
        assert.equal(t.requiresGrad, true, name);
      }
      assert.equal(c.add(1).gradFn, null);
      assert.equal(c.add(1).isLeaf, true);
      const conv = F.conv2d(torch.ones([1, 1, 3, 3], { requiresGrad: true }), torch.ones([1, 1, 2, 2]));
      assert.match(conv.gradFn!, /Convolution|Conv/);
      assert.match(String(x.mul(2)), /grad_fn=<MulBackward1>/);
      assert.match(String(x), /requires_grad=True/);
    });
  });

  tensorTest('in-place update of a leaf inside noGrad keeps it a leaf (the SGD step)', () => {
    const w = f64([1, 2]).requiresGrad_();
    torch.tidy(() => w.mul(w).sum().backward());
    torch.tidy(() => torch.noGrad(() => w.sub_(w.grad!.mul(0.1))));
    assert.equal(w.isLeaf, true);
    assert.equal(w.requiresGrad, true);
    const want = f64([0.8, 1.6]);
    assertClose(w, want, 1e-12);
    torch.dispose([w, want]);
  });
});
