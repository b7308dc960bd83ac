// Attaches the ops as Tensor methods (`a.add(b)` == `torch.add(a, b)`). Declared through
// interface merging so the class file stays about what a tensor is.
import { Tensor } from './tensor.js';
import * as m from './ops/math.js';
import * as ip from './ops/inplace.js';
import * as r from './ops/reduce.js';
import * as s from './ops/shape.js';
import * as c from './ops/conversion.js';

type Rest<F> = F extends (first: any, ...rest: infer R) => any ? R : never;
type Method<F> = F extends (first: any, ...rest: any[]) => infer Ret ? (...args: Rest<F>) => Ret : never;
type SelfMethod<F> = F extends (self: any, ...rest: infer R) => any ? <T extends Tensor>(this: T, ...args: R) => T : never;

declare module './tensor.js' {
  interface Tensor {
    add: Method<typeof m.add>;
    sub: Method<typeof m.sub>;
    mul: Method<typeof m.mul>;
    div: Method<typeof m.div>;
    rsub: Method<typeof m.rsub>;
    pow: (exponent: m.TensorOrNumber) => Tensor;
    remainder: Method<typeof m.remainder>;
    fmod: Method<typeof m.fmod>;
    eq: Method<typeof m.eq>;
    ne: Method<typeof m.ne>;
    lt: Method<typeof m.lt>;
    le: Method<typeof m.le>;
    gt: Method<typeof m.gt>;
    ge: Method<typeof m.ge>;
    minimum: Method<typeof m.minimum>;
    maximum: Method<typeof m.maximum>;
    atan2: Method<typeof m.atan2>;
    logicalAnd: Method<typeof m.logicalAnd>;
    logicalOr: Method<typeof m.logicalOr>;
    logicalXor: Method<typeof m.logicalXor>;
    logicalNot: Method<typeof m.logicalNot>;
    matmul: Method<typeof m.matmul>;
    mm: Method<typeof m.mm>;
    bmm: Method<typeof m.bmm>;
    dot: Method<typeof m.dot>;
    neg: Method<typeof m.neg>;
    abs: Method<typeof m.abs>;
    exp: Method<typeof m.exp>;
    log: Method<typeof m.log>;
    log2: Method<typeof m.log2>;
    log10: Method<typeof m.log10>;
    log1p: Method<typeof m.log1p>;
    expm1: Method<typeof m.expm1>;
    sqrt: Method<typeof m.sqrt>;
    rsqrt: Method<typeof m.rsqrt>;
    square: Method<typeof m.square>;
    reciprocal: Method<typeof m.reciprocal>;
    sin: Method<typeof m.sin>;
    cos: Method<typeof m.cos>;
    tan: Method<typeof m.tan>;
    floor: Method<typeof m.floor>;
    ceil: Method<typeof m.ceil>;
    round: Method<typeof m.round>;
    trunc: Method<typeof m.trunc>;
    sign: Method<typeof m.sign>;
    erf: Method<typeof m.erf>;
    isnan: Method<typeof m.isnan>;
    isinf: Method<typeof m.isinf>;
    isfinite: Method<typeof m.isfinite>;
    sigmoid: Method<typeof m.sigmoid>;
    tanh: Method<typeof m.tanh>;
    relu: Method<typeof m.relu>;
    relu6: Method<typeof m.relu6>;
    leakyRelu: Method<typeof m.leakyRelu>;
    gelu: Method<typeof m.gelu>;
    silu: Method<typeof m.silu>;
    hardswish: Method<typeof m.hardswish>;
    softmax: Method<typeof m.softmax>;
    logSoftmax: Method<typeof m.logSoftmax>;
    where: (condition: Tensor, other: m.TensorOrNumber) => Tensor;
    clamp: Method<typeof m.clamp>;
    addcmul: Method<typeof m.addcmul>;
    addcdiv: Method<typeof m.addcdiv>;
    lerp: Method<typeof m.lerp>;
    equal: Method<typeof m.equal>;
    allclose: Method<typeof m.allclose>;
    add_: SelfMethod<typeof ip.add_>;
    sub_: SelfMethod<typeof ip.sub_>;
    mul_: SelfMethod<typeof ip.mul_>;
    div_: SelfMethod<typeof ip.div_>;
    addcmul_: SelfMethod<typeof ip.addcmul_>;
    addcdiv_: SelfMethod<typeof ip.addcdiv_>;
    lerp_: SelfMethod<typeof ip.lerp_>;
    copy_: SelfMethod<typeof ip.copy_>;
    zero_: SelfMethod<typeof ip.zero_>;
    fill_: SelfMethod<typeof ip.fill_>;
    clamp_: SelfMethod<typeof ip.clamp_>;
    sqrt_: SelfMethod<typeof ip.sqrt_>;
    neg_: SelfMethod<typeof ip.neg_>;
    abs_: SelfMethod<typeof ip.abs_>;
    exp_: SelfMethod<typeof ip.exp_>;
    relu_: SelfMethod<typeof ip.relu_>;
    sigmoid_: SelfMethod<typeof ip.sigmoid_>;
    erfinv_: SelfMethod<typeof ip.erfinv_>;
    relu6_: SelfMethod<typeof ip.relu6_>;
    silu_: SelfMethod<typeof ip.silu_>;
    hardswish_: SelfMethod<typeof ip.hardswish_>;
    leakyRelu_: SelfMethod<typeof ip.leakyRelu_>;
    pow_: SelfMethod<typeof ip.pow_>;
    uniform_: SelfMethod<typeof ip.uniform_>;
    normal_: SelfMethod<typeof ip.normal_>;
    maskedFill_: SelfMethod<typeof ip.maskedFill_>;
    sum: Method<typeof r.sum>;
    mean: Method<typeof r.mean>;
    prod: Method<typeof r.prod>;
    max(): Tensor;
    max(other: Tensor): Tensor;
    max(options: { dim: number; keepdim?: boolean }): r.ValuesIndices;
    min(): Tensor;
    min(other: Tensor): Tensor;
    min(options: { dim: number; keepdim?: boolean }): r.ValuesIndices;
    argmax: Method<typeof r.argmax>;
    argmin: Method<typeof r.argmin>;
    amax: Method<typeof r.amax>;
    amin: Method<typeof r.amin>;
    std: Method<typeof r.std>;
    var: Method<typeof r.variance>;
    all: Method<typeof r.all>;
    any: Method<typeof r.any>;
    norm: Method<typeof r.norm>;
    logsumexp: Method<typeof r.logsumexp>;
    cumsum: Method<typeof r.cumsum>;
    cumprod: Method<typeof r.cumprod>;
    topk: Method<typeof r.topk>;
    sort: Method<typeof r.sort>;
    argsort: Method<typeof r.argsort>;
    countNonzero: Method<typeof r.countNonzero>;
    view: Method<typeof s.view>;
    reshape: Method<typeof s.reshape>;
    permute: Method<typeof s.permute>;
    transpose: Method<typeof s.transpose>;
    t: Method<typeof s.t>;
    squeeze: Method<typeof s.squeeze>;
    unsqueeze: Method<typeof s.unsqueeze>;
    flatten: Method<typeof s.flatten>;
    unflatten: Method<typeof s.unflatten>;
    expand: Method<typeof s.expand>;
    expandAs: Method<typeof s.expandAs>;
    narrow: Method<typeof s.narrow>;
    select: Method<typeof s.select>;
    slice: Method<typeof s.slice>;
    indexSelect: Method<typeof s.indexSelect>;
    index: Method<typeof s.index>;
    gather: Method<typeof s.gather>;
    scatter: Method<typeof s.scatter>;
    scatterAdd: Method<typeof s.scatterAdd>;
    maskedFill: Method<typeof s.maskedFill>;
    maskedSelect: Method<typeof s.maskedSelect>;
    nonzero: Method<typeof s.nonzero>;
    split: Method<typeof s.split>;
    chunk: Method<typeof s.chunk>;
    unbind: Method<typeof s.unbind>;
    flip: Method<typeof s.flip>;
    rot90: Method<typeof s.rot90>;
    roll: Method<typeof s.roll>;
    repeat: Method<typeof s.repeat>;
    tril: Method<typeof s.tril>;
    triu: Method<typeof s.triu>;
    contiguous: Method<typeof s.contiguous>;
    clone: Method<typeof s.clone>;
    detach: Method<typeof s.detach>;
    to: Method<typeof c.to>;
    float: Method<typeof c.float>;
    double: Method<typeof c.double>;
    half: Method<typeof c.half>;
    bfloat16: Method<typeof c.bfloat16>;
    long: Method<typeof c.long>;
    int: Method<typeof c.int>;
    bool: Method<typeof c.bool>;
    byte: Method<typeof c.byte>;
    cpu: Method<typeof c.cpu>;
    cuda: Method<typeof c.cuda>;
  }
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;

function attach(fns: Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const fn = fns[name] as (...a: unknown[]) => unknown;
    if (typeof fn !== 'function') throw new Error(`internal: no op ${name} to attach`);
    // A fixed arity avoids a rest-array allocation; missing arguments arrive as undefined,
    // which default parameters treat as omitted. (fn.length ignores defaulted parameters,
    // so it cannot tell how many to forward.)
    proto[name] = function (this: Tensor, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown) {
      return fn(this, a, b, c, d, e);
    };
  }
}

attach(m as unknown as Record<string, unknown>, [
  'add',
  'sub',
  'mul',
  'div',
  'rsub',
  'pow',
  'remainder',
  'fmod',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'minimum',
  'maximum',
  'atan2',
  'logicalAnd',
  'logicalOr',
  'logicalXor',
  'logicalNot',
  'matmul',
  'mm',
  'bmm',
  'dot',
  'neg',
  'abs',
  'exp',
  'log',
  'log2',
  'log10',
  'log1p',
  'expm1',
  'sqrt',
  'rsqrt',
  'square',
  'reciprocal',
  'sin',
  'cos',
  'tan',
  'floor',
  'ceil',
  'round',
  'trunc',
  'sign',
  'erf',
  'isnan',
  'isinf',
  'isfinite',
  'sigmoid',
  'tanh',
  'relu',
  'relu6',
  'leakyRelu',
  'gelu',
  'silu',
  'hardswish',
  'softmax',
  'logSoftmax',
  'clamp',
  'addcmul',
  'addcdiv',
  'lerp',
  'equal',
  'allclose',
]);
attach(ip as unknown as Record<string, unknown>, Object.keys(ip));
attach(r as unknown as Record<string, unknown>, [
  'sum',
  'mean',
  'prod',
  'max',
  'min',
  'argmax',
  'argmin',
  'amax',
  'amin',
  'std',
  'all',
  'any',
  'norm',
  'logsumexp',
  'cumsum',
  'cumprod',
  'topk',
  'sort',
  'argsort',
  'countNonzero',
]);
proto.var = function (this: Tensor, o?: Parameters<typeof r.variance>[1]) {
  return r.variance(this, o);
};
attach(
  s as unknown as Record<string, unknown>,
  Object.keys(s).filter((k) => k !== 'sharesStorage' && k !== 'cat' && k !== 'stack'),
);
attach(c as unknown as Record<string, unknown>, Object.keys(c));
// PyTorch's x.where(condition, y) means torch.where(condition, x, y).
proto.where = function (this: Tensor, condition: Tensor, other: m.TensorOrNumber) {
  return m.where(condition, this, other);
};
