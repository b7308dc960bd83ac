// Values of torch.nn.functional (F) against PyTorch 1.13: convolutions, linear, normalisation
// (with batchNorm's running-stat updates), pooling and unpooling, interpolation, padding,
// dropout and losses. Inputs and expected outputs come from test/fixtures/ops/ops.safetensors,
// written by scripts/fixtures/make_op_fixtures.py. Each case runs inside tidy through tensorTest
// (no leaked tensors), checks the dtype PyTorch gives, then the values: exactly for integer
// results (pooling indices) and ops that only move data, else with assertClose.
import { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { torch, F, type Tensor, type DType, type ValuesIndices } from '../src/index.js';
import { FIXTURES, assertClose, tensorTest } from './helpers.js';

// ---------------------------------------------------------------- fixture plumbing

const fixture = torch.loadSafetensors(join(FIXTURES, 'ops', 'ops.safetensors'));
after(() => torch.dispose(fixture));

function fx(name: string): Tensor {
  const t = fixture[name];
  if (t === undefined) throw new Error(`ops.safetensors has no tensor "${name}" (re-run scripts/fixtures/make_op_fixtures.py)`);
  return t;
}

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

function assertExact(actual: Tensor, expected: Tensor, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  const a = actual.toArray();
  const e = expected.toArray();
  assert.ok(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(e.buffer, e.byteOffset, e.byteLength)),
    `${what}: values differ\n  got      ${String(actual)}\n  expected ${String(expected)}`,
  );
}

interface CaseOptions {
  atol?: number;
  rtol?: number;
  exact?: boolean;
}

function check(actual: Tensor, name: string, o: CaseOptions = {}): void {
  const e = fx(name);
  assert.equal(actual.dtype, e.dtype, `${name}: dtype ${actual.dtype}, PyTorch gives ${e.dtype}`);
  if (o.exact || !isFloat(e.dtype)) assertExact(actual, e, name);
  else assertClose(actual, e, o.atol ?? 1e-5, o.rtol ?? 1e-5, name);
}

type Out = Tensor | Tensor[] | ValuesIndices | Record<string, Tensor>;

/** One test per case: runs `fn` in tidy and compares each output with the case's fixture outputs. */
function cases(table: Record<string, () => Out>, o: CaseOptions = {}): void {
  for (const [name, fn] of Object.entries(table)) {
    tensorTest(name, () => {
      torch.tidy(() => {
        const key = name.replace(/ \(.*\)$/, '');
        const got = fn();
        const entries: [string, Tensor][] =
          got instanceof torch.Tensor ? [['out', got]] : Array.isArray(got) ? got.map((t, i) => [`out${i}`, t]) : Object.entries(got);
        const want = Object.keys(fixture)
          .filter((k) => k.startsWith(`${key}.`) && !/\.in\d+$/.test(k))
          .map((k) => k.slice(key.length + 1));
        assert.ok(want.length > 0, `no expected outputs for ${key}`);
        assert.deepEqual(entries.map(([k]) => k).sort(), want.sort(), `${key}: outputs`);
        for (const [k, t] of entries) check(t, `${key}.${k}`, o);
      });
    });
  }
}

// ---------------------------------------------------------------- convolution and linear

// Convolutions sum up to 100 products of N(0, 1) values; libtorch may pick another
// algorithm (mkldnn vs. im2col) than the Python build, so summation order, and with it the
// last float32 bits, can differ: atol 1e-4 on outputs of magnitude ~10 (rtol 1e-5 as usual).
const CONV_TOL = { atol: 1e-4 };

describe('F.conv2d', () => {
  const x = fx('conv.x'),
    w = fx('conv.w'),
    b = fx('conv.b'),
    wg = fx('conv.wg'),
    w5 = fx('conv.w5');
  cases(
    {
      conv2d_bias: () => F.conv2d(x, w, { bias: b }),
      conv2d_nobias: () => F.conv2d(x, w),
      conv2d_stride2: () => F.conv2d(x, w, { bias: b, stride: 2 }),
      conv2d_stride21_pad: () => F.conv2d(x, w, { bias: b, stride: [2, 1], padding: 1 }),
      conv2d_pad12: () => F.conv2d(x, w, { bias: b, padding: [1, 2] }),
      conv2d_dil2: () => F.conv2d(x, w, { bias: b, padding: 2, dilation: 2 }),
      conv2d_groups2: () => F.conv2d(x, wg, { bias: b, groups: 2 }),
      conv2d_same: () => F.conv2d(x, w, { bias: b, padding: 'same' }),
      conv2d_same_k5_dil: () => F.conv2d(x, w5, { padding: 'same', dilation: [1, 2] }),
      conv2d_valid: () => F.conv2d(x, w5, { padding: 'valid' }),
      conv2d_3d_input: () => F.conv2d(x.select(0, 0), w, { bias: b, padding: 1 }),
    },
    CONV_TOL,
  );
});

describe('F.convTranspose2d', () => {
  const x = fx('convt.x'),
    w = fx('convt.w'),
    b = fx('convt.b'),
    wg = fx('convt.wg');
  cases(
    {
      conv_transpose2d: () => F.convTranspose2d(x, w, { bias: b }),
      conv_transpose2d_s2: () => F.convTranspose2d(x, w, { bias: b, stride: 2 }),
      conv_transpose2d_s2_p1_op1: () => F.convTranspose2d(x, w, { bias: b, stride: 2, padding: 1, outputPadding: 1 }),
      conv_transpose2d_groups: () => F.convTranspose2d(x, wg, { stride: 2, groups: 2 }),
      conv_transpose2d_dil: () => F.convTranspose2d(x, w, { bias: b, dilation: 2, padding: [1, 0] }),
    },
    CONV_TOL,
  );
});

describe('F.linear', () => {
  const x = fx('lin.x'),
    w = fx('lin.w'),
    b = fx('lin.b');
  cases({
    linear: () => F.linear(x, w, b),
    linear_nobias: () => F.linear(x, w),
    'linear_nobias (null bias)': () => F.linear(x, w, null),
    linear_1d: () => F.linear(x.select(0, 0).select(0, 0), w, b),
  });
});

// ---------------------------------------------------------------- normalisation

describe('F.batchNorm, groupNorm, layerNorm, instanceNorm', () => {
  const x = fx('bn.x'),
    rm = fx('bn.rm'),
    rv = fx('bn.rv'),
    w = fx('bn.w'),
    b = fx('bn.b');
  const gx = fx('gn.x'),
    gw = fx('gn.w'),
    gb = fx('gn.b');
  cases({
    // training: normalises with batch statistics and updates the running stats in place
    // (running_var with the unbiased batch variance), as PyTorch does.
    batch_norm_train: () => {
      const m = rm.clone(),
        v = rv.clone();
      const out = F.batchNorm(x, m, v, { weight: w, bias: b, training: true });
      return { out, rm: m, rv: v };
    },
    batch_norm_train_m03: () => {
      const m = rm.clone(),
        v = rv.clone();
      const out = F.batchNorm(x, m, v, { training: true, momentum: 0.3, eps: 1e-3 });
      return { out, rm: m, rv: v };
    },
    batch_norm_train_nostats: () => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }),
    batch_norm_eval: () => F.batchNorm(x, rm, rv, { weight: w, bias: b }),
    'batch_norm_eval (training: false)': () => F.batchNorm(x, rm, rv, { weight: w, bias: b, training: false }),
    batch_norm_eval_eps: () => F.batchNorm(x, rm, rv, { eps: 0.1 }),
    group_norm_3: () => F.groupNorm(gx, 3, { weight: gw, bias: gb }),
    group_norm_1: () => F.groupNorm(gx, 1),
    group_norm_6_eps: () => F.groupNorm(gx, 6, { weight: gw, bias: gb, eps: 1e-2 }),
    layer_norm: () => F.layerNorm(gx, [4, 5]),
    layer_norm_affine: () => F.layerNorm(gx.permute([0, 2, 3, 1]), [6], { weight: gw, bias: gb }),
    instance_norm: () => F.instanceNorm(gx),
  });

  tensorTest('batchNorm in eval leaves the running stats untouched', () => {
    torch.tidy(() => {
      const m = rm.clone(),
        v = rv.clone();
      F.batchNorm(x, m, v, { weight: w, bias: b, training: false });
      assertExact(m, rm, 'runningMean');
      assertExact(v, rv, 'runningVar');
    });
  });
});

// ---------------------------------------------------------------- pooling

describe('pooling', () => {
  const x = fx('pool.x'),
    y = fx('pool.y'),
    z = fx('pool.z');
  cases({
    max_pool2d_k2: () => F.maxPool2d(y, 2),
    max_pool2d_k3s2p1: () => F.maxPool2d(y, 3, { stride: 2, padding: 1 }),
    max_pool2d_ceil: () => F.maxPool2d(x, 2, { ceilMode: true }),
    max_pool2d_floor: () => F.maxPool2d(x, 2),
    max_pool2d_dil: () => F.maxPool2d(y, 2, { stride: 1, dilation: 2 }),
    max_pool2d_rect: () => F.maxPool2d(x, [3, 2], { stride: [2, 1] }),
    max_pool2d_idx: () => {
      const [out, indices] = F.maxPool2d(y, 2, { returnIndices: true });
      return { out, indices };
    },
    max_pool2d_ceil_idx: () => {
      const [out, indices] = F.maxPool2d(x, 2, { ceilMode: true, returnIndices: true });
      return { out, indices };
    },
    max_pool2d_k3_idx: () => {
      const [out, indices] = F.maxPool2d(y, 3, { stride: 2, padding: 1, returnIndices: true });
      return { out, indices };
    },
    // unpooling starts from PyTorch's own pooled values and indices
    max_unpool2d: () => F.maxUnpool2d(fx('max_pool2d_idx.out'), fx('max_pool2d_idx.indices'), 2),
    max_unpool2d_size: () => F.maxUnpool2d(fx('max_pool2d_idx.out'), fx('max_pool2d_idx.indices'), 2, { outputSize: [9, 9] }),
    max_unpool2d_ceil: () => F.maxUnpool2d(fx('max_pool2d_ceil_idx.out'), fx('max_pool2d_ceil_idx.indices'), 2, { outputSize: [7, 5] }),
    max_unpool2d_k3: () =>
      F.maxUnpool2d(fx('max_pool2d_k3_idx.out'), fx('max_pool2d_k3_idx.indices'), 3, { stride: 2, padding: 1, outputSize: [8, 8] }),
    avg_pool2d_k2: () => F.avgPool2d(y, 2),
    avg_pool2d_k3s2p1: () => F.avgPool2d(y, 3, { stride: 2, padding: 1 }),
    avg_pool2d_k3s2p1_nopad: () => F.avgPool2d(y, 3, { stride: 2, padding: 1, countIncludePad: false }),
    avg_pool2d_ceil: () => F.avgPool2d(x, 2, { ceilMode: true }),
    avg_pool2d_divisor: () => F.avgPool2d(y, 2, { divisorOverride: 3 }),
    adaptive_avg_7x5_3x2: () => F.adaptiveAvgPool2d(x, [3, 2]),
    adaptive_avg_1: () => F.adaptiveAvgPool2d(z, 1),
    adaptive_avg_2: () => F.adaptiveAvgPool2d(z, 2),
    adaptive_avg_3: () => F.adaptiveAvgPool2d(z, [3, 3]),
    adaptive_avg_6: () => F.adaptiveAvgPool2d(z, 6),
    adaptive_avg_none: () => F.adaptiveAvgPool2d(z, [null, 4]),
    adaptive_avg_up: () => F.adaptiveAvgPool2d(x, [9, 6]),
    adaptive_max_7x5_3x2: () => F.adaptiveMaxPool2d(x, [3, 2]),
    adaptive_max_3_idx: () => {
      const [out, indices] = F.adaptiveMaxPool2d(z, 3, { returnIndices: true }) as [Tensor, Tensor];
      return { out, indices };
    },
    adaptive_max_6: () => F.adaptiveMaxPool2d(z, 6),
  });

  tensorTest('maxPool2d -> maxUnpool2d round trip keeps each window maximum in place', () => {
    torch.tidy(() => {
      const [o, i] = F.maxPool2d(y, 2, { returnIndices: true });
      const u = F.maxUnpool2d(o, i, 2);
      assertExact(u, fx('max_unpool2d.out'), 'unpool of segkit pool');
      // every pooled value sits back at the position its index names
      assertExact(u.flatten(2).gather(2, i.flatten(2)), o.flatten(2), 'unpooled values at the pooled indices');
      assert.equal(u.ne(0).sum().item(), o.ne(0).sum().item(), 'nothing else is written');
    });
  });
});

// ---------------------------------------------------------------- interpolate and pad

describe('F.interpolate', () => {
  const x = fx('interp.x');
  cases({
    nearest_size: () => F.interpolate(x, { size: [8, 11], mode: 'nearest' }),
    nearest_scale2: () => F.interpolate(x, { scaleFactor: 2, mode: 'nearest' }),
    nearest_scale15: () => F.interpolate(x, { scaleFactor: 1.5 }),
    nearest_down: () => F.interpolate(x, { size: [3, 4] }),
    nearest_default: () => F.interpolate(x, { size: 10 }),
    bilinear_size: () => F.interpolate(x, { size: [8, 11], mode: 'bilinear', alignCorners: false }),
    'bilinear_size (alignCorners default)': () => F.interpolate(x, { size: [8, 11], mode: 'bilinear' }),
    bilinear_size_ac: () => F.interpolate(x, { size: [8, 11], mode: 'bilinear', alignCorners: true }),
    bilinear_scale2: () => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: false }),
    bilinear_scale2_ac: () => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }),
    bilinear_scale15: () => F.interpolate(x, { scaleFactor: [1.5, 0.5], mode: 'bilinear', alignCorners: false }),
    bilinear_scale15_recompute: () =>
      F.interpolate(x, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: false, recomputeScaleFactor: true }),
    bilinear_down: () => F.interpolate(x, { size: [3, 4], mode: 'bilinear', alignCorners: false }),
    bicubic_size: () => F.interpolate(x, { size: [8, 11], mode: 'bicubic', alignCorners: false }),
    area_size: () => F.interpolate(x, { size: [3, 4], mode: 'area' }),
    nearest_exact_size: () => F.interpolate(x, { size: [8, 11], mode: 'nearest-exact' }),
    nearest_exact_scale15: () => F.interpolate(x, { scaleFactor: 1.5, mode: 'nearest-exact' }),
    area_scale05: () => F.interpolate(x, { scaleFactor: 0.5, mode: 'area' }),
  });
});

describe('F.pad', () => {
  const x = fx('interp.x');
  cases(
    {
      pad_constant: () => F.pad(x, [1, 2]),
      pad_constant_value: () => F.pad(x, [1, 1, 2, 0], { value: 0.5 }),
      pad_constant_4d: () => F.pad(x, [0, 1, 1, 0, 2, 1]),
      pad_constant_neg: () => F.pad(x, [-1, 2, 0, -2]),
      pad_reflect: () => F.pad(x, [2, 1, 1, 2], { mode: 'reflect' }),
      pad_replicate: () => F.pad(x, [1, 2, 3, 0], { mode: 'replicate' }),
      pad_circular: () => F.pad(x, [1, 2, 2, 1], { mode: 'circular' }),
    },
    { exact: true },
  );
});

// ---------------------------------------------------------------- dropout

describe('F.dropout', () => {
  const x = fx('interp.x');
  for (const [name, fn] of [
    ['p=0 in training is the identity', () => F.dropout(x, { p: 0 })],
    ['p=0 with training: true is the identity', () => F.dropout(x, { p: 0, training: true })],
    ['eval (training: false) is the identity for any p', () => F.dropout(x, { p: 0.5, training: false })],
    ['eval with p=1 is the identity', () => F.dropout(x, { p: 1, training: false })],
    ['dropout2d eval is the identity', () => F.dropout2d(x, { p: 0.7, training: false })],
    ['dropout2d p=0 is the identity', () => F.dropout2d(x, { p: 0 })],
  ] as const) {
    tensorTest(name, () => {
      torch.tidy(() => assertExact(fn(), x, name));
    });
  }
  tensorTest('p=1 in training zeroes everything (as PyTorch)', () => {
    torch.tidy(() => {
      // assertClose, not bytes: x * 0 keeps the sign of negative x (-0), in PyTorch too
      assertClose(F.dropout(x, { p: 1, training: true }), torch.zerosLike(x), 0, 0, 'dropout p=1');
    });
  });
  tensorTest('training dropout keeps x / (1 - p) or 0', () => {
    torch.tidy(() => {
      const d = F.dropout(x, { p: 0.25, training: true });
      const kept = d.ne(0);
      assertClose(d, torch.where(kept, x.div(0.75), 0), 1e-6, 1e-6, 'kept values are scaled');
    });
  });
});

// ---------------------------------------------------------------- losses

describe('losses', () => {
  const logits = fx('bce.logits'),
    target = fx('bce.target'),
    targetBin = fx('bce.target_bin'),
    pw = fx('bce.pos_weight'),
    bw = fx('bce.weight');
  const x = fx('ce.x'),
    t = fx('ce.t'),
    tIgn = fx('ce.t_ign'),
    w = fx('ce.w'),
    x2 = fx('ce.x2'),
    t2 = fx('ce.t2'),
    p = fx('ce.p');
  cases({
    bce_mean: () => F.binaryCrossEntropyWithLogits(logits, target),
    bce_sum: () => F.binaryCrossEntropyWithLogits(logits, targetBin, { reduction: 'sum' }),
    bce_none: () => F.binaryCrossEntropyWithLogits(logits, target, { reduction: 'none' }),
    bce_pos_weight: () => F.binaryCrossEntropyWithLogits(logits, targetBin, { posWeight: pw }),
    bce_weight: () => F.binaryCrossEntropyWithLogits(logits, target, { weight: bw, reduction: 'sum' }),
    bce_weight_pos_none: () => F.binaryCrossEntropyWithLogits(logits, targetBin, { weight: bw, posWeight: pw, reduction: 'none' }),
    bce_probs: () => F.binaryCrossEntropy(logits.sigmoid(), target),
    ce_mean: () => F.crossEntropy(x, t),
    ce_weight: () => F.crossEntropy(x, t, { weight: w }),
    ce_ignore: () => F.crossEntropy(x, tIgn, { ignoreIndex: 255 }),
    ce_ignore_weight: () => F.crossEntropy(x, tIgn, { weight: w, ignoreIndex: 255 }),
    ce_smooth: () => F.crossEntropy(x, t, { labelSmoothing: 0.1 }),
    ce_smooth_weight_ignore: () => F.crossEntropy(x, tIgn, { weight: w, ignoreIndex: 255, labelSmoothing: 0.2 }),
    ce_none: () => F.crossEntropy(x, tIgn, { ignoreIndex: 255, reduction: 'none' }),
    ce_sum: () => F.crossEntropy(x, t, { weight: w, reduction: 'sum' }),
    ce_2d: () => F.crossEntropy(x2, t2),
    ce_probs: () => F.crossEntropy(x, p),
    ce_probs_smooth: () => F.crossEntropy(x, p, { labelSmoothing: 0.1 }),
    nll_mean: () => F.nllLoss(F.logSoftmax(x, 1), t),
    nll_weight: () => F.nllLoss(F.logSoftmax(x, 1), t, { weight: w }),
    nll_ignore: () => F.nllLoss(F.logSoftmax(x, 1), tIgn, { ignoreIndex: 255 }),
    nll_none: () => F.nllLoss(F.logSoftmax(x, 1), tIgn, { weight: w, ignoreIndex: 255, reduction: 'none' }),
    nll_sum: () => F.nllLoss(F.logSoftmax(x, 1), t, { reduction: 'sum' }),
    nll_2d: () => F.nllLoss(F.logSoftmax(x2, 1), t2),
    mse: () => F.mseLoss(logits, target),
    l1_sum: () => F.l1Loss(logits, target, { reduction: 'sum' }),
    smooth_l1: () => F.smoothL1Loss(logits, target, { beta: 0.5 }),
  });
});
