// Values of segkit's tensor ops against PyTorch 1.13. Inputs and expected outputs come from
// test/fixtures/ops/ops.safetensors, written by scripts/fixtures/make_op_fixtures.py (see its
// header for the naming). Each case runs inside tidy through tensorTest (no leaked tensors),
// checks the dtype PyTorch gives, then the values: exactly for integer/bool results and for ops
// that only move data, with assertClose for computed floats (float32: atol 1e-5, rtol 1e-5).
// The second part checks the tensor API basics (factories, dtypes, item, views) directly.
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

/** The values as plain numbers (int64 through Number()). */
const nums = (t: Tensor): number[] => Array.from(t.toArray() as ArrayLike<number | bigint>, Number);

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

/** Same dtype, shape and bytes. */
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

/** Compares with fixture tensor `name`: dtype always, then exact (ints, bools, `exact`) or close. */
function check(actual: Tensor, name: string, o: CaseOptions = {}): void {
  const e = fx(name);
  assert.equal(actual.dtype, e.dtype, `${name}: dtype ${actual.dtype}, PyTorch gives ${e.dtype}`);
  if (o.exact || !isFloat(e.dtype)) assertExact(actual, e, name);
  else assertClose(actual, e, o.atol ?? 1e-5, o.rtol ?? 1e-5, name);
}

type Out = Tensor | Tensor[] | ValuesIndices | Record<string, Tensor>;
interface CaseOptions {
  atol?: number;
  rtol?: number;
  exact?: boolean;
  key?: string;
}

/**
 * One test per case: runs `fn` in tidy and compares each output with the fixture's outputs of
 * that case ("<key>.out", or "<key>.out0".., or "<key>.<field>" for an object result).
 */
function cases(table: Record<string, () => Out>, o: CaseOptions = {}): void {
  for (const [name, fn] of Object.entries(table)) {
    tensorTest(name, () => {
      torch.tidy(() => {
        const key = o.key ?? name.replace(/ \(.*\)$/, '');
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

// ---------------------------------------------------------------- creation and RNG

describe('creation', () => {
  cases(
    {
      arange_end: () => torch.arange(5),
      arange_step: () => torch.arange(0, 10, 3),
      arange_neg: () => torch.arange(5, -3, -2),
      arange_float: () => torch.arange(1, 2.5, 0.5),
      arange_float2: () => torch.arange(-1, 1, 0.25),
      linspace: () => torch.linspace(0, 1, 5),
      linspace2: () => torch.linspace(-3, 2.5, 7),
      linspace_f64: () => torch.linspace(0, 1, 11, { dtype: 'float64' }),
      eye: () => torch.eye(3),
      eye_rect: () => torch.eye(2, 4),
      zeros: () => torch.zeros([2, 3]),
      ones_i64: () => torch.ones([2, 3], { dtype: 'int64' }),
      full: () => torch.full([2, 2], 1.5),
      full_bool: () => torch.full([3], true),
    },
    { exact: true },
  );
});

describe('rng parity with torch.manual_seed', () => {
  const seeded = (seed: number, fn: () => Out) => () => {
    torch.manualSeed(seed);
    return fn();
  };
  cases(
    {
      rng_randn: seeded(123, () => torch.randn(5)),
      rng_rand: seeded(123, () => torch.rand(5)),
      rng_randint: seeded(123, () => torch.randint(0, 10, [5])),
      rng_seq: seeded(123, () => [torch.randn(5), torch.rand(5), torch.randint(0, 10, 5), torch.randn([2, 3])]),
      rng_randperm: seeded(7, () => torch.randperm(10)),
      rng_uniform: seeded(7, () => torch.empty([6]).uniform_(-2, 3)),
      rng_normal: seeded(7, () => torch.empty([6]).normal_(1, 0.5)),
      rng_dropout: seeded(7, () => F.dropout(torch.ones([4, 5]), { p: 0.5, training: true })),
    },
    { exact: true },
  );
});

// ---------------------------------------------------------------- arithmetic

describe('arithmetic, broadcasting, scalars and promotion', () => {
  const a = fx('arith.a'),
    b = fx('arith.b'),
    c = fx('arith.c'),
    pos = fx('arith.pos');
  const ai = fx('arith.ai'),
    bi = fx('arith.bi'),
    ai32 = fx('arith.ai32'),
    a64 = fx('arith.a64'),
    s0 = fx('arith.s0');
  cases({
    add: () => a.add(b),
    'add (torch.add)': () => torch.add(a, b),
    add_alpha: () => torch.add(a, b, { alpha: -0.5 }),
    add_scalar: () => a.add(2.5),
    add_vec: () => a.add(c),
    sub: () => a.sub(b),
    sub_alpha: () => torch.sub(a, c, { alpha: 2 }),
    sub_scalar: () => a.sub(1),
    rsub: () => a.rsub(1),
    'rsub (torch.rsub)': () => torch.rsub(a, 1),
    mul: () => a.mul(b),
    mul_scalar: () => a.mul(-3),
    div: () => a.div(pos),
    div_scalar: () => a.div(4),
    div_floor: () => a.div(b, { roundingMode: 'floor' }),
    div_trunc: () => torch.div(a, 0.3, { roundingMode: 'trunc' }),
    pow_tt: () => pos.pow(b),
    pow_ts: () => a.pow(3),
    pow_half: () => pos.pow(0.5),
    pow_st: () => torch.pow(2, a),
    remainder: () => a.remainder(0.7),
    fmod: () => a.fmod(0.7),
    int_add: () => ai.add(3),
    int_sub: () => ai.sub(10),
    int_mul: () => ai.mul(2),
    int_mul_half: () => ai.mul(0.5),
    int_add_float: () => ai.add(2.5),
    int_div: () => ai.div(bi),
    int_div_scalar: () => ai.div(2),
    int_div_floor: () => ai.div(bi, { roundingMode: 'floor' }),
    int_div_trunc: () => ai.div(bi, { roundingMode: 'trunc' }),
    int_remainder: () => ai.remainder(4),
    int_div_floor_scalar: () => ai.div(4, { roundingMode: 'floor' }),
    int_div_trunc_scalar: () => torch.div(ai, -4, { roundingMode: 'trunc' }),
    int_pow: () => ai.pow(2),
    int_add_tensor: () => ai.add(bi),
    int_neg: () => ai.neg(),
    int_abs: () => ai.abs(),
    int32_add: () => ai32.add(5),
    int32_mul_half: () => ai32.mul(0.5),
    int32_plus_i64: () => ai32.add(ai.select(2, 0)),
    mix_i64_f32: () => ai.add(a.select(2, 0).narrow(2, 0, 4)),
    mix_f32_f64: () => a.add(a64),
    mix_0d: () => a.add(s0),
  });
});

// ---------------------------------------------------------------- comparisons, where, clamp

describe('comparisons and logical ops', () => {
  const q = fx('cmp.q'),
    r = fx('cmp.r'),
    ai = fx('arith.ai');
  cases({
    eq: () => q.eq(r),
    ne: () => q.ne(r),
    lt: () => q.lt(r),
    le: () => q.le(r),
    gt: () => q.gt(r),
    ge: () => torch.ge(q, r),
    eq_scalar: () => q.eq(0.5),
    lt_scalar: () => q.lt(0),
    ge_scalar: () => q.ge(-0.5),
    int_gt_scalar: () => ai.gt(1),
    maximum: () => q.maximum(r),
    'maximum (torch.max with other)': () => torch.max(q, r),
    minimum: () => torch.minimum(q, r),
    'minimum (min method with other)': () => q.min(r),
    logical_and: () => q.gt(0).logicalAnd(r.gt(0)),
    logical_or: () => q.gt(0).logicalOr(r.gt(0)),
    logical_xor: () => torch.logicalXor(q.gt(0), r.gt(0)),
    logical_not: () => q.gt(0).logicalNot(),
    isnan: () => q.log().isnan(),
    isfinite: () => q.log().isfinite(),
  });
});

describe('where', () => {
  const cond = fx('where.cond'),
    q = fx('cmp.q'),
    r = fx('cmp.r'),
    ai = fx('arith.ai'),
    bi = fx('arith.bi');
  cases({
    where_tt: () => torch.where(cond, q, r),
    'where_tt (method)': () => q.where(cond, r),
    where_ts: () => torch.where(cond, q, 0.25),
    where_st: () => torch.where(cond, -1.5, r),
    where_ss: () => torch.where(cond, 1.5, -0.5),
    where_ss_int: () => torch.where(cond, 1, 0),
    where_int: () => torch.where(cond.select(0, 0).narrow(0, 0, 3).narrow(1, 0, 4), ai.select(0, 0), bi),
  });
});

describe('clamp', () => {
  const a = fx('arith.a'),
    ai = fx('arith.ai'),
    lo = fx('clamp.lo'),
    hi = fx('clamp.hi');
  cases({
    clamp_both: () => a.clamp(-0.5, 0.5),
    clamp_min: () => a.clamp(0.2),
    clamp_max: () => torch.clamp(a, null, -0.1),
    clamp_tensor: () => a.clamp(lo, hi),
    clamp_int: () => ai.clamp(-2, 3),
  });
});

// ---------------------------------------------------------------- unary math and activations

describe('unary math', () => {
  const u = fx('unary.u');
  cases({
    abs: () => u.abs(),
    neg: () => u.neg(),
    exp: () => u.exp(),
    log: () => u.abs().add(0.1).log(),
    log2: () => u.abs().add(0.1).log2(),
    log1p: () => u.abs().log1p(),
    expm1: () => u.expm1(),
    sqrt: () => u.abs().sqrt(),
    rsqrt: () => u.abs().add(0.1).rsqrt(),
    square: () => u.square(),
    reciprocal: () => u.reciprocal(),
    pow2: () => u.pow(2),
    sin: () => u.sin(),
    cos: () => u.cos(),
    erf: () => u.erf(),
    floor: () => u.floor(),
    ceil: () => u.ceil(),
    round: () => u.round(),
    trunc: () => u.trunc(),
    sign: () => u.sign(),
  });
});

describe('activations and softmax', () => {
  const u = fx('unary.u');
  cases({
    sigmoid: () => u.sigmoid(),
    'sigmoid (torch.sigmoid)': () => torch.sigmoid(u),
    tanh: () => u.tanh(),
    relu: () => u.relu(),
    'relu (F.relu)': () => F.relu(u),
    relu6: () => u.mul(3).relu6(),
    leaky_relu: () => u.leakyRelu(),
    leaky_relu_02: () => F.leakyRelu(u, 0.2),
    gelu: () => u.gelu(),
    'gelu (explicit none)': () => F.gelu(u, { approximate: 'none' }),
    gelu_tanh: () => F.gelu(u, { approximate: 'tanh' }),
    silu: () => u.silu(),
    hardswish: () => F.hardswish(u),
    hardsigmoid: () => F.hardsigmoid(u),
    elu: () => F.elu(u, 0.7),
    softplus: () => F.softplus(u, { beta: 2, threshold: 5 }),
    mish: () => F.mish(u),
    hardtanh: () => F.hardtanh(u, -2, 1.5),
    softmax_1: () => u.softmax(1),
    softmax_last: () => torch.softmax(u, -1),
    softmax_f64: () => F.softmax(u, 2, { dtype: 'float64' }),
    log_softmax_1: () => u.logSoftmax(1),
    log_softmax_last: () => F.logSoftmax(u, -1),
  });
});

// ---------------------------------------------------------------- reductions

describe('reductions', () => {
  const x = fx('red.x'),
    xb = fx('red.xb'),
    ai = fx('arith.ai'),
    ai32 = fx('arith.ai32');
  cases({
    sum_all: () => x.sum(),
    sum_dim: () => x.sum({ dim: 1 }),
    sum_dims_keep: () => x.sum({ dim: [2, 3], keepdim: true }),
    sum_neg_dim: () => torch.sum(x, { dim: -1 }),
    sum_int: () => ai.sum(),
    sum_int_dim: () => ai.sum({ dim: 1 }),
    sum_int32: () => ai32.sum(),
    sum_bool: () => xb.sum(),
    sum_f64: () => x.sum({ dim: 1, dtype: 'float64' }),
    mean_all: () => x.mean(),
    mean_dim: () => x.mean({ dim: 2 }),
    mean_dims_keep: () => x.mean({ dim: [0, 2, 3], keepdim: true }),
    prod_dim: () => x.prod({ dim: 3 }),
    max_all: () => x.max(),
    max_dim: () => x.max({ dim: 1 }),
    max_dim_keep: () => torch.max(x, { dim: -1, keepdim: true }),
    min_all: () => x.min(),
    min_dim: () => x.min({ dim: 2 }),
    min_dim_keep: () => x.min({ dim: 0, keepdim: true }),
    max_int: () => ai.max(),
    argmax_all: () => x.argmax(),
    argmax_dim: () => x.argmax({ dim: 1 }),
    argmax_keep: () => x.argmax({ dim: 3, keepdim: true }),
    argmin_dim: () => x.argmin({ dim: 2 }),
    amax: () => x.amax({ dim: [1, 3] }),
    amin_keep: () => x.amin({ dim: 2, keepdim: true }),
    std_all: () => x.std(),
    std_all_biased: () => x.std({ unbiased: false }),
    std_dim: () => x.std({ dim: 1 }),
    std_dim_biased: () => x.std({ dim: 3, unbiased: false }),
    'std_dim_biased (correction 0)': () => x.std({ dim: 3, correction: 0 }),
    std_dims_keep: () => x.std({ dim: [2, 3], keepdim: true }),
    var_all: () => x.var(),
    var_dim: () => torch.var(x, { dim: 2 }),
    var_dim_biased_keep: () => x.var({ dim: 1, unbiased: false, keepdim: true }),
    logsumexp: () => x.logsumexp(1),
    norm_all: () => x.norm(),
    norm_p1_dim: () => x.norm({ p: 1, dim: 2 }),
    all_dim: () => xb.all({ dim: 1 }),
    any_dim: () => xb.any({ dim: 0 }),
    all_all: () => xb.all(),
    count_nonzero: () => xb.countNonzero({ dim: 1 }),
    count_nonzero_all: () => xb.countNonzero(),
    argmin_all: () => x.argmin(),
    prod_all: () => x.select(0, 0).select(0, 0).prod(),
    mean_int_dtype: () => ai.mean({ dtype: 'float32' }),
    logsumexp_keep: () => x.logsumexp([1, 2], { keepdim: true }),
    norm_keep: () => x.norm({ p: 3, dim: [2, 3], keepdim: true }),
    bincount: () => torch.bincount(ai.flatten().add(6), { minlength: 15 }),
    bincount_weights: () => torch.bincount(ai.flatten().add(6), { weights: x.flatten().narrow(0, 0, 24) }),
  });
});

// ---------------------------------------------------------------- matmul

describe('matmul', () => {
  const m1 = fx('mat.m1'),
    m2 = fx('mat.m2'),
    mb = fx('mat.mb'),
    mb2 = fx('mat.mb2'),
    v6 = fx('mat.v6');
  cases({
    matmul_2d: () => m1.matmul(m2),
    matmul_batch_bcast: () => mb.matmul(m2),
    matmul_batch: () => torch.matmul(mb, mb2),
    matmul_vec: () => m1.matmul(v6),
    matmul_vecmat: () => v6.matmul(m2),
    mm: () => m1.mm(m2),
    bmm: () => mb.bmm(mb2),
    dot: () => v6.dot(v6),
  });
});

// ---------------------------------------------------------------- topk, sort, scans, oneHot

describe('topk, sort, cumsum, oneHot', () => {
  const s = fx('sort.s'),
    si = fx('sort.si'),
    x = fx('red.x'),
    ai32 = fx('arith.ai32'),
    labels = fx('one_hot.labels');
  cases({
    topk: () => s.topk(3),
    topk_smallest_dim1: () => s.topk(2, { dim: 1, largest: false }),
    topk_all: () => torch.topk(s, 8),
    sort_asc: () => s.sort(),
    sort_desc_dim0: () => s.sort({ dim: 0, descending: true }),
    sort_stable_int: () => si.sort({ stable: true }),
    sort_stable_desc: () => si.sort({ dim: 1, descending: true, stable: true }),
    argsort: () => s.argsort({ dim: 1 }),
    argsort_desc: () => s.argsort({ descending: true }),
    cumsum_1: () => x.cumsum(1),
    cumsum_last: () => torch.cumsum(x, -1),
    cumsum_int: () => si.cumsum(1),
    cumsum_int32: () => ai32.cumsum(0),
    cumsum_f64: () => x.cumsum(2, { dtype: 'float64' }),
    cumprod: () => x.cumprod(3),
    one_hot_5: () => torch.oneHot(labels, 5),
    one_hot_7: () => F.oneHot(labels, 7),
    one_hot_auto: () => torch.oneHot(labels),
  });
});

// ---------------------------------------------------------------- views and indexing

describe('views, joins and indexing', () => {
  const v = fx('view.v'),
    idx = fx('view.idx'),
    idx0 = fx('view.idx0'),
    idx2 = fx('view.idx2');
  const gidx = fx('view.gidx'),
    sidx = fx('view.sidx'),
    ssrc = fx('view.ssrc'),
    mask = fx('view.mask'),
    maskB = fx('view.mask_b');
  const v1 = fx('squeeze.in0'),
    b = fx('arith.b'),
    m1 = fx('mat.m1'),
    w1 = fx('cat.w1');
  cases(
    {
      view_shape: () => v.view([6, 20]),
      view_infer: () => v.view([-1, 5]),
      reshape_noncontig: () => v.permute([0, 2, 1, 3]).reshape([8, 15]),
      permute: () => v.permute([3, 1, 0, 2]),
      transpose: () => v.transpose(1, 3),
      t: () => m1.t(),
      squeeze_all: () => v1.squeeze(),
      squeeze_dim: () => v1.squeeze(2),
      squeeze_noop: () => v1.squeeze(1),
      unsqueeze: () => v.unsqueeze(1),
      unsqueeze_neg: () => v.unsqueeze(-1),
      flatten: () => v.flatten(),
      flatten_1: () => v.flatten(1),
      flatten_1_2: () => torch.flatten(v, 1, 2),
      unflatten: () => v.unflatten(3, [5, 1]),
      expand: () => b.expand([2, 3, 5, 7]),
      expand_neg: () => v1.expand([2, -1, 5, -1]),
      narrow: () => v.narrow(2, 1, 2),
      select: () => v.select(1, 2),
      select_neg: () => v.select(-1, -1),
      slice: () => v.slice(1, 1, 3),
      slice_mid: () => v.slice(2, 1, 3),
      'slice_mid (torch.slice)': () => torch.slice(v, 2, 1, 3),
      slice_step: () => v.slice(2, null, null, 2),
      'slice_step (torch.slice)': () => torch.slice(v, 2, null, null, 2),
      slice_neg: () => v.slice(3, -3),
      slice_step_range: () => v.slice(2, 1, 4, 2),
      'slice_step_range (torch.slice)': () => torch.slice(v, 2, 1, 4, 2),
      index_select: () => v.indexSelect(2, idx),
      index_adv: () => v.index([null, idx]),
      index_adv2: () => v.index([idx0, null, idx2]),
      gather: () => v.gather(2, gidx),
      scatter_src: () => torch.zeros([2, 3, 4, 5]).scatter(2, sidx, ssrc),
      scatter_value: () => v.scatter(2, sidx, -1.5),
      scatter_add_reduce: () => v.scatter(2, gidx, ssrc, { reduce: 'add' }),
      scatter_add: () => v.scatterAdd(2, gidx, ssrc),
      scatter_multiply: () => v.scatter(2, gidx, ssrc, { reduce: 'multiply' }),
      scatter_value_add: () => v.scatter(2, gidx, 0.5, { reduce: 'add' }),
      masked_fill: () => v.maskedFill(mask, -2),
      masked_fill_bcast: () => v.maskedFill(maskB, 0.5),
      masked_fill_tensor: () => v.maskedFill(mask, torch.tensor(3)),
      masked_select: () => v.maskedSelect(mask),
      nonzero: () => mask.nonzero(),
      cat_1: () => torch.cat([v, w1], 1),
      cat_0: () => torch.cat([v, v]),
      cat_neg: () => torch.cat([v, v, v], -1),
      stack_0: () => torch.stack([v, v.mul(2)]),
      stack_2: () => torch.stack([v, v.mul(2), v.mul(3)], 2),
      split_2: () => v.split(2, 2),
      split_sizes: () => torch.split(v, [1, 3, 1], 3),
      chunk: () => v.chunk(2, 3),
      unbind: () => v.unbind(1),
      flip: () => v.flip(3),
      flip_2: () => v.flip([1, 2]),
      rot90: () => v.rot90(1, [2, 3]),
      rot90_k2: () => v.rot90(2, [2, 3]),
      rot90_km1: () => torch.rot90(v, -1, [2, 3]),
      rot90_default: () => v.rot90(),
      roll: () => v.roll(2, 3),
      roll_multi: () => v.roll([1, -2], [2, 3]),
      roll_flat: () => v.roll(7),
      repeat: () => b.repeat([2, 1, 3, 1]),
      tril: () => v.tril(-1),
      triu: () => v.triu(1),
    },
    { exact: true },
  );
});

// ---------------------------------------------------------------- in-place

describe('in-place variants', () => {
  const a = fx('inplace.a'),
    b = fx('inplace.b'),
    c = fx('inplace.c'),
    r = fx('inplace.r');
  /** Runs an in-place op on a clone, checks it returned the same handle, and gives the clone. */
  const inplace = (base: Tensor, op: (t: Tensor) => Tensor) => () => {
    const t = base.clone();
    assert.equal(op(t), t, 'an in-place op returns its input');
    return t;
  };
  cases({
    add_: inplace(a, (t) => t.add_(r, { alpha: 2 })),
    add_scalar_: inplace(a, (t) => t.add_(1.5)),
    sub_: inplace(a, (t) => t.sub_(b, { alpha: 0.5 })),
    mul_: inplace(a, (t) => t.mul_(r)),
    mul_scalar_: inplace(a, (t) => t.mul_(-2)),
    div_: inplace(a, (t) => t.div_(c)),
    addcmul_: inplace(a, (t) => t.addcmul_(b, c, { value: 0.3 })),
    addcdiv_: inplace(a, (t) => t.addcdiv_(b, c, { value: -0.7 })),
    addcmul: () => a.addcmul(b, r, { value: 2 }),
    addcdiv: () => torch.addcdiv(a, b, c),
    lerp_: inplace(a, (t) => t.lerp_(b, 0.25)),
    lerp_tensor_: inplace(a, (t) => t.lerp_(b, c.sub(0.5))),
    lerp: () => a.lerp(b, 0.8),
    copy_bcast_: inplace(a, (t) => t.copy_(r)),
    copy_dtype_: () => torch.zeros([3, 4, 5], { dtype: 'float64' }).copy_(a),
    copy_int_: () => torch.zeros([4, 5], { dtype: 'int64' }).copy_(a.select(0, 0).mul(3)),
    clamp_: inplace(a, (t) => t.clamp_(-0.5, 0.25)),
    fill_: inplace(a, (t) => t.fill_(2.25)),
    pow_: inplace(c, (t) => t.pow_(1.5)),
    masked_fill_: inplace(a, (t) => t.maskedFill_(b.gt(0), -1)),
    view_copy_: inplace(a, (t) => {
      t.slice(1, 1, 3).copy_(b.slice(1, 1, 3).mul(10));
      return t;
    }),
    view_inplace_: inplace(a, (t) => {
      t.select(2, 1).zero_();
      t.narrow(0, 1, 1).mul_(3);
      return t;
    }),
  });

  tensorTest('zero_ clears every element and keeps the dtype', () => {
    torch.tidy(() => {
      const t = a.clone();
      assert.equal(t.zero_(), t);
      assertExact(t, torch.zeros([3, 4, 5]), 'zero_');
      const i = fx('arith.ai').clone().zero_();
      assertExact(i, torch.zeros([2, 3, 4], { dtype: 'int64' }), 'int zero_');
    });
  });
});

// ---------------------------------------------------------------- dtype conversions

describe('dtype conversions', () => {
  cases({
    dtype_to_int: () => torch.tensor([-2.7, -0.5, 0.5, 2.7, 3.0]).to({ dtype: 'int64' }),
    dtype_to_uint8: () => torch.tensor([0.0, 1.9, 255.0, 17.5]).byte(),
    dtype_to_bool: () => torch.tensor([0.0, -0.0, 0.1, -2.0]).bool(),
  });
  const vals = [0.1, -1 / 3, 1000.7, 65504.0, 1e-8, 3.0];
  for (const dtype of ['float16', 'bfloat16'] as const) {
    tensorTest(`torch.tensor(numbers, { dtype: '${dtype}' }) rounds as PyTorch does`, () => {
      torch.tidy(() => {
        const t = torch.tensor(vals, { dtype });
        assert.equal(t.dtype, dtype);
        const arr = t.toArray();
        assert.ok(arr instanceof Float32Array, `${dtype} toArray() gives Float32Array`);
        const e = fx(dtype === 'float16' ? 'dtype_f16.out' : 'dtype_bf16.out');
        assert.deepEqual(Array.from(arr as Float32Array), nums(e));
        assertExact(t.float(), e, `${dtype} -> float32`);
      });
    });
  }
});

// ---------------------------------------------------------------- tensor API basics

describe('tensor API basics', () => {
  tensorTest('torch.tensor from nested arrays: float32 by default, dtype and shape options', () => {
    torch.tidy(() => {
      const t = torch.tensor([
        [1, 2, 3],
        [4, 5, 6.5],
      ]);
      assert.equal(t.dtype, 'float32');
      assert.deepEqual([...t.shape], [2, 3]);
      assert.ok(t.toArray() instanceof Float32Array);
      assert.deepEqual(nums(t), [1, 2, 3, 4, 5, 6.5]);
      assert.deepEqual(t.tolist(), [
        [1, 2, 3],
        [4, 5, 6.5],
      ]);

      const i = torch.tensor(
        [
          [1, -2],
          [3, 4],
        ],
        { dtype: 'int64' },
      );
      assert.equal(i.dtype, 'int64');
      assert.deepEqual(Array.from(i.toArray() as BigInt64Array), [1n, -2n, 3n, 4n]);

      const r = torch.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] });
      assert.deepEqual([...r.shape], [3, 2]);
      assert.deepEqual(r.tolist(), [
        [1, 2],
        [3, 4],
        [5, 6],
      ]);

      const s = torch.tensor(3.5);
      assert.deepEqual([...s.shape], []);
      assert.equal(s.item(), 3.5);

      const e = torch.tensor([]);
      assert.deepEqual([...e.shape], [0]);
      assert.equal(e.dtype, 'float32');
      assert.throws(() => torch.tensor([[1, 2], [3]]), RangeError);
    });
  });

  tensorTest('torch.tensor from booleans gives bool; a dtype converts them', () => {
    torch.tidy(() => {
      const b = torch.tensor([
        [true, false],
        [false, true],
      ]);
      assert.equal(b.dtype, 'bool');
      assert.ok(b.toArray() instanceof Uint8Array);
      assert.deepEqual(nums(b), [1, 0, 0, 1]);
      assert.deepEqual(b.tolist(), [
        [true, false],
        [false, true],
      ]);
      const f = torch.tensor([true, false, true], { dtype: 'float32' });
      assert.equal(f.dtype, 'float32');
      assert.deepEqual(nums(f), [1, 0, 1]);
      assert.equal(torch.tensor(true).item(), 1);
    });
  });

  tensorTest('torch.tensor from typed arrays keeps their dtype; shape and dtype options apply', () => {
    torch.tidy(() => {
      const cases: [ArrayBufferView, DType][] = [
        [new Float32Array([1.5, -2]), 'float32'],
        [new Float64Array([1.5, -2]), 'float64'],
        [new BigInt64Array([1n, -2n]), 'int64'],
        [new Int32Array([1, -2]), 'int32'],
        [new Int16Array([1, -2]), 'int16'],
        [new Int8Array([1, -2]), 'int8'],
        [new Uint8Array([1, 254]), 'uint8'],
      ];
      for (const [data, dtype] of cases) {
        const t = torch.tensor(data);
        assert.equal(t.dtype, dtype, data.constructor.name);
        assert.deepEqual([...t.shape], [2]);
        assert.deepEqual(
          Array.from(t.toArray() as ArrayLike<unknown>),
          Array.from(data as unknown as ArrayLike<unknown>),
          data.constructor.name,
        );
      }
      const shaped = torch.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
      assert.deepEqual([...shaped.shape], [2, 3]);
      assert.deepEqual(shaped.tolist(), [
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const conv = torch.tensor(new Int32Array([1, 2, 3]), { dtype: 'float64' });
      assert.equal(conv.dtype, 'float64');
      assert.ok(conv.toArray() instanceof Float64Array);
      // A view into a larger buffer: only the viewed elements are copied.
      const sub = torch.tensor(new Float32Array([1, 2, 3, 4]).subarray(1, 3));
      assert.deepEqual(nums(sub), [2, 3]);
      // int64 beyond 2^53 survives from a bigint array.
      const big = torch.tensor([2n ** 60n + 1n, -5n]);
      assert.equal(big.dtype, 'int64');
      assert.deepEqual(Array.from(big.toArray() as BigInt64Array), [2n ** 60n + 1n, -5n]);
    });
  });

  tensorTest('every dtype round-trips through toArray() with the right typed array class', () => {
    torch.tidy(() => {
      const values = [0, 1, 2, 100, 7];
      const expectClass: Record<DType, new (n: number) => unknown> = {
        float32: Float32Array,
        float16: Float32Array,
        bfloat16: Float32Array,
        float64: Float64Array,
        int64: BigInt64Array,
        int32: Int32Array,
        int16: Int16Array,
        int8: Int8Array,
        uint8: Uint8Array,
        bool: Uint8Array,
      };
      for (const dtype of torch.dtypes) {
        const t = torch.tensor(values, { dtype });
        assert.equal(t.dtype, dtype);
        const arr = t.toArray();
        assert.ok(arr instanceof expectClass[dtype], `${dtype}: toArray() gives ${arr.constructor.name}`);
        const want = dtype === 'bool' ? values.map((v) => (v !== 0 ? 1 : 0)) : values;
        assert.deepEqual(Array.from(arr as ArrayLike<number | bigint>, Number), want, dtype);
        // and back: a tensor from that array has the same values
        const back = torch.tensor(arr, { dtype, shape: [values.length] });
        assert.equal(back.dtype, dtype);
        assert.ok(torch.equal(back, t), `${dtype}: tensor(toArray()) equals the original`);
        // through float64 and back again
        assert.ok(torch.equal(t.double().to({ dtype }), t), `${dtype}: float64 round trip`);
      }
    });
  });

  tensorTest('item() and 0-d results of reductions without dim', () => {
    torch.tidy(() => {
      const t = torch.tensor([
        [1, 2],
        [3, 4],
      ]);
      for (const r of [t.sum(), t.mean(), t.max(), t.min(), t.argmax(), t.std(), t.prod(), t.amax(), t.norm()]) {
        assert.deepEqual([...r.shape], [], 'reduction without dim is 0-d');
        assert.equal(r.ndim, 0);
        assert.equal(r.numel, 1);
      }
      assert.equal(t.sum().item(), 10);
      assert.equal(t.mean().item(), 2.5);
      assert.equal(t.max().item(), 4);
      assert.equal(t.min().item(), 1);
      assert.equal(t.argmax().dtype, 'int64');
      assert.equal(t.argmax().item(), 3);
      assert.equal(t.prod().item(), 24);
      assert.ok(Math.abs(t.std().item() - Math.sqrt(5 / 3)) < 1e-6);
      assert.equal(t.gt(0).all().dtype, 'bool');
      assert.equal(t.gt(0).all().item(), 1);
      assert.equal(t.gt(3).any().item(), 1);
      assert.equal(t.long().sum().dtype, 'int64');
      assert.equal(t.long().sum().item(), 10);
      assert.equal(torch.tensor([7], { dtype: 'int32' }).item(), 7);
      assert.throws(() => t.item());
    });
  });

  tensorTest('to({ dtype }) converts; a no-op conversion shares data unless copy: true', () => {
    torch.tidy(() => {
      const f = torch.tensor([-1.7, 0.2, 2.9]);
      const i = f.to({ dtype: 'int32' });
      assert.equal(i.dtype, 'int32');
      assert.deepEqual(nums(i), [-1, 0, 2]);
      const d = f.to({ dtype: 'float64' });
      assert.equal(d.dtype, 'float64');
      assert.ok(!torch.sharesStorage(f, d));
      const same = f.to({ dtype: 'float32' });
      assert.notEqual(same, f, 'a new handle');
      assert.ok(torch.sharesStorage(f, same), 'no-op to() shares storage');
      assert.ok(!torch.sharesStorage(f, f.to({ dtype: 'float32', copy: true })), 'copy: true copies');
      assert.equal(f.half().dtype, 'float16');
      assert.equal(f.bfloat16().dtype, 'bfloat16');
      assert.equal(f.long().dtype, 'int64');
      assert.equal(f.int().dtype, 'int32');
      assert.equal(f.byte().dtype, 'uint8');
      assert.equal(f.bool().dtype, 'bool');
      assert.equal(f.float().dtype, 'float32');
    });
  });

  tensorTest('contiguous, clone and detach', () => {
    torch.tidy(() => {
      const base = torch.arange(12).reshape([3, 4]).float();
      const tr = base.transpose(0, 1);
      assert.equal(tr.isContiguous(), false);
      assert.deepEqual(tr.stride(), [1, 4]);
      const c = tr.contiguous();
      assert.equal(c.isContiguous(), true);
      assert.deepEqual(c.stride(), [3, 1]);
      assert.deepEqual(c.tolist(), tr.tolist());
      assert.ok(!torch.sharesStorage(c, base));
      const cc = c.contiguous();
      assert.ok(torch.sharesStorage(cc, c), 'contiguous() of a contiguous tensor is the same data');

      const cl = base.clone();
      assert.ok(!torch.sharesStorage(cl, base));
      cl.add_(100);
      assert.equal(base.sum().item(), 66, 'writing to a clone leaves the original alone');
      assert.equal(cl.sum().item(), 66 + 1200);
      const clT = tr.clone();
      assert.deepEqual(clT.tolist(), tr.tolist());

      const g = torch.ones([2], { requiresGrad: true });
      const y = g.mul(2);
      const det = y.detach();
      assert.equal(y.requiresGrad, true);
      assert.equal(det.requiresGrad, false);
      assert.ok(torch.sharesStorage(det, y), 'detach shares storage');
      det.add_(1);
      assert.deepEqual(nums(y), [3, 3], 'a write through detach() is visible in the source');
    });
  });

  tensorTest('views share storage: copy_ into a view is visible in the base', () => {
    torch.tidy(() => {
      const base = torch.zeros([3, 4]);
      const row = base.select(0, 1);
      assert.ok(torch.sharesStorage(row, base));
      row.copy_(torch.tensor([1, 2, 3, 4]));
      assert.deepEqual(base.tolist(), [
        [0, 0, 0, 0],
        [1, 2, 3, 4],
        [0, 0, 0, 0],
      ]);

      const col = base.transpose(0, 1).narrow(0, 3, 1);
      col.copy_(torch.full([1, 3], 9));
      assert.deepEqual(base.tolist(), [
        [0, 0, 0, 9],
        [1, 2, 3, 9],
        [0, 0, 0, 9],
      ]);

      const flat = base.view([12]);
      flat.slice(0, 0, 12, 5).fill_(-1);
      assert.deepEqual(base.tolist(), [
        [-1, 0, 0, 9],
        [1, -1, 3, 9],
        [0, 0, -1, 9],
      ]);

      for (const vw of [
        base.permute([1, 0]),
        base.unsqueeze(0),
        base.flatten(),
        base.expand([2, 3, 4]),
        base.slice(1, 1, 3),
        base.detach(),
      ]) {
        assert.ok(torch.sharesStorage(vw, base));
      }
      assert.deepEqual(base.expand([2, 3, 4]).stride(), [0, 4, 1]);
      // the base going away does not invalidate a view
      const b2 = torch.arange(6).float();
      const v2 = b2.view([2, 3]);
      b2.dispose();
      assert.deepEqual(v2.tolist(), [
        [0, 1, 2],
        [3, 4, 5],
      ]);
      // reshape of a non-contiguous tensor copies
      const r = base.transpose(0, 1).reshape([12]);
      assert.ok(!torch.sharesStorage(r, base));
    });
  });
});
