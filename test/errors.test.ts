// Wrong calls, op family by op family: each must throw the right JS error class (Error,
// TypeError or RangeError, checked exactly) with a message that names the op and the argument
// or what was expected. Everything runs in this process: a native abort would kill the run.
//
// Conventions checked here (src/validate.ts's, after Node's own validators): a wrong JS type, a
// name outside its set (a dtype, a mode) or an unknown option is a TypeError; a number out of
// range (a fractional size or dim, a probability above 1), a bad size, shape, dim or index, and
// an allocation that cannot succeed, is a RangeError; other failures libtorch reports
// (RuntimeError in PyTorch) are an Error.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { torch, F, type Tensor } from '../src/index.js';
import { tensorTest } from './helpers.js';

/** A tensor's values as plain numbers. */
const nums = (t: Tensor): number[] => Array.from(t.toArray() as unknown as ArrayLike<number>, Number);

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;
type Case = [what: string, fn: () => unknown, kind: ErrorClass, ...patterns: RegExp[]];

/** Checks one call; returns a description of what is wrong, or null. */
function mismatch([what, fn, kind, ...patterns]: Case): string | null {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (!(e instanceof Error)) return `${what}: threw a non-Error ${String(e)}`;
    const got = `${e.constructor.name}: ${e.message.split('\n')[0]}`;
    if (e.constructor !== kind) return `${what}: expected ${kind.name}, got ${got}`;
    const missing = patterns.filter((p) => !p.test(e.message));
    if (missing.length > 0) return `${what}: message lacks ${missing.join(', ')} in ${got}`;
    return null;
  }
  return `${what}: did not throw (returned ${String(result).replace(/\s+/g, ' ').slice(0, 60)})`;
}

/** Runs every case inside one tidy (so inputs are freed) and reports all mismatches at once. */
function expectErrors(cases: (ctx: Record<string, Tensor>) => Case[]): void {
  const problems = torch.tidy(() => {
    const ctx = {
      x: torch.ones([2, 3]),
      v: torch.ones([3]),
      img: torch.ones([1, 2, 6, 6]),
      w: torch.ones([3, 2, 3, 3]),
      idx: torch.tensor([0, 1], { dtype: 'int64' }),
    };
    return cases(ctx)
      .map(mismatch)
      .filter((m): m is string => m !== null);
  });
  if (problems.length > 0) assert.fail(`${problems.length} wrong error(s):\n  ${problems.join('\n  ')}`);
}

const S = 'x' as unknown as Tensor; // a string where a Tensor is expected
const long = (data: number[], shape?: number[]) => torch.tensor(data, { dtype: 'int64', ...(shape ? { shape } : {}) });

describe('creation', () => {
  tensorTest('shapes, sizes and data', () =>
    expectErrors(() => [
      ['negative size', () => torch.zeros([2, -1]), RangeError, /torch\.zeros/, /shape/, /non-negative/, /\[2, -1\]/],
      ['fractional size', () => torch.ones([1.5]), RangeError, /torch\.ones/, /shape must be/, /integers/],
      ['string shape', () => torch.zeros('3' as unknown as number[]), TypeError, /torch\.zeros/, /shape must be/],
      ['no shape', () => torch.randn(undefined as unknown as number[]), TypeError, /torch\.randn/, /shape must be/],
      ['fractional size as a number', () => torch.zeros(1.5), RangeError, /zeros/, /size|shape/, /integer/],
      ['ragged nested array', () => torch.tensor([[1, 2], [3]]), RangeError, /torch\.tensor/, /ragged/, /data\[1\]/, /length 2/],
      ['string in data', () => torch.tensor([1, 'a'] as unknown as number[]), TypeError, /torch\.tensor/, /data\[1\]/, /number or boolean/],
      ['object as data', () => torch.tensor({} as unknown as number[]), TypeError, /torch\.tensor/, /number or boolean/],
      [
        'shape that the data does not fill',
        () => torch.tensor([1, 2, 3], { shape: [2, 2] }),
        RangeError,
        /torch\.tensor/,
        /\[2, 2\]/,
        /3 values|3 elements/,
      ],
      [
        'typed array that does not fill the shape',
        () => torch.tensor(new Float32Array(3), { shape: [2, 2] }),
        RangeError,
        /tensor/,
        /\[2, 2\]/,
      ],
      ['zero step', () => torch.arange(0, 5, 0), RangeError, /torch\.arange/, /step/, /nonzero/],
      ['string end', () => torch.arange('5' as unknown as number), TypeError, /torch\.arange/, /end must be/, /number/],
      ['infinite end', () => torch.arange(0, Infinity), Error, /arange/, /inf/],
      ['empty randint range', () => torch.randint(5, 2, [3]), RangeError, /torch\.randint/, /high must be greater than low/],
      ['fractional randint bound', () => torch.randint(0, 2.5, [2]), RangeError, /torch\.randint/, /high must be/, /integer/],
      ['fractional eye', () => torch.eye(2.5), RangeError, /torch\.eye/, /n must be/, /integer/],
      ['negative eye', () => torch.eye(-1), Error, /eye/, /n must be greater or equal to 0/],
      ['negative linspace steps', () => torch.linspace(0, 1, -1), Error, /linspace/, /steps/],
      ['string fill value', () => torch.full([2], 'a' as unknown as number), TypeError, /torch\.full/, /fillValue/, /number or boolean/],
      ['string scalar', () => torch.scalarTensor('5' as unknown as number), TypeError, /torch\.scalarTensor/, /value/i],
    ]),
  );

  tensorTest('dtypes, devices and options', () =>
    expectErrors(({ x }) => [
      [
        'unknown dtype',
        () => torch.zeros([2], { dtype: 'float8' as 'float32' }),
        TypeError,
        /torch\.zeros/,
        /dtype must be one of 'uint8', 'int8'/,
        /got 'float8'/,
      ],
      [
        'unknown dtype in torch.tensor',
        () => torch.tensor([1], { dtype: 'int65' as 'int64' }),
        TypeError,
        /torch\.tensor/,
        /dtype/,
        /'int65'/,
      ],
      ['unknown dtype in zerosLike', () => torch.zerosLike(x, { dtype: 'x' as 'float32' }), TypeError, /torch\.zerosLike/, /dtype/],
      [
        'unknown option key',
        () => torch.ones([2], { dtpye: 'float64' } as object),
        TypeError,
        /torch\.ones/,
        /unknown option 'dtpye'/,
        /known: dtype/,
      ],
      [
        'unknown option key in torch.tensor',
        () => torch.tensor([1], { requires_grad: true } as object),
        TypeError,
        /torch\.tensor/,
        /unknown option 'requires_grad'/,
      ],
      [
        'options not an object',
        () => torch.ones([2], 'float64' as unknown as object),
        TypeError,
        /torch\.ones/,
        /options must be an object/,
      ],
      ['cuda without CUDA', () => torch.ones([2], { device: 'cuda' }), Error, /torch\.ones/, /cuda/, /no CUDA/],
      ['unknown device', () => x.to({ device: 'tpu' }), Error, /to/, /device/, /tpu/],
      ['to with a string', () => x.to('float64' as unknown as object), TypeError, /to/, /options must be an object/],
      ['channelsLast on 2-D', () => x.to({ memoryFormat: 'channelsLast' }), Error, /to/, /rank 4/],
      [
        'requiresGrad on int64',
        () => torch.ones([2], { dtype: 'int64', requiresGrad: true }),
        TypeError,
        /torch\.ones/,
        /requiresGrad/,
        /floating point/,
      ],
      [
        'requiresGrad_ with a non-boolean',
        () => x.requiresGrad_(1 as unknown as boolean),
        TypeError,
        /requiresGrad_/,
        /flag must be true or false, got 1/,
      ],
    ]),
  );

  tensorTest('allocations that cannot succeed are RangeErrors, never an abort', () =>
    expectErrors(({ x }) => [
      ['zeros 1e7 x 1e7', () => torch.zeros([1e7, 1e7]), RangeError, /zeros/, /allocate/],
      ['ones 1e7 x 1e7', () => torch.ones([1e7, 1e7]), RangeError, /ones/, /allocate/],
      ['empty 1e7 x 1e7', () => torch.empty([1e7, 1e7]), RangeError, /empty/, /allocate/],
      ['full 1e7 x 1e7', () => torch.full([1e7, 1e7], 2), RangeError, /full/, /allocate/],
      ['rand 1e7 x 1e7', () => torch.rand([1e7, 1e7]), RangeError, /rand/, /allocate/],
      ['randn 1e7 x 1e7', () => torch.randn([1e7, 1e7]), RangeError, /randn/, /allocate/],
      ['zeros 2^53', () => torch.zeros([2 ** 53]), RangeError, /zeros/, /allocate/],
      ['arange 1e15', () => torch.arange(0, 1e15), RangeError, /arange/, /allocate/],
      ['repeat to 1e12 elements', () => x.repeat([1e6, 1e6]), RangeError, /repeat/, /allocate/],
      [
        'contiguous copy of a huge expanded view',
        () => torch.ones([1e5]).expand([1e5, 1e5]).contiguous(),
        RangeError,
        /contiguous/,
        /allocate/,
      ],
      ['zeros whose size overflows', () => torch.zeros([2 ** 31, 2 ** 31, 4]), RangeError, /zeros/, /overflow/],
      ['zeros 2^62', () => torch.zeros([2 ** 62]), RangeError, /zeros/, /overflow|allocate/],
    ]),
  );
});

describe('arithmetic and comparisons', () => {
  tensorTest('broadcasting mismatches', () =>
    expectErrors(({ x }) => [
      [
        'add',
        () => x.add(torch.ones([4])),
        Error,
        /add/,
        /size of tensor a \(3\) must match the size of tensor b \(4\)/,
        /\[2, 3\]/,
        /\[4\]/,
      ],
      ['sub', () => torch.sub(x, torch.ones([2])), Error, /sub/, /must match/],
      ['mul', () => x.mul(torch.ones([3, 2])), Error, /mul/, /must match/],
      ['div', () => x.div(torch.ones([5])), Error, /div/, /must match/],
      ['pow', () => x.pow(torch.ones([4])), Error, /pow/, /must match/],
      ['in-place add_ cannot grow self', () => torch.ones([3]).add_(x), Error, /add_/, /broadcast shape \[2, 3\]/],
      ['copy_ of another shape', () => torch.ones([3]).copy_(x), Error, /copy_/, /\[2, 3\]/],
      ['where', () => torch.where(torch.ones([2]).gt(0), torch.ones([3]), torch.ones([4])), Error, /where/, /must match/],
    ]),
  );

  tensorTest('comparisons and logical ops', () =>
    expectErrors(({ x }) => [
      ['eq', () => x.eq(torch.ones([4])), Error, /eq/, /must match/],
      ['lt', () => x.lt(torch.ones([2])), Error, /lt/, /must match/],
      ['ge', () => torch.ge(x, torch.ones([7])), Error, /ge/, /must match/],
      ['eq with a string', () => x.eq('a' as unknown as Tensor), TypeError, /torch\.eq/, /other must be/, /Tensor/],
      ['gt with null', () => x.gt(null as unknown as Tensor), TypeError, /torch\.gt/, /other must be/],
      ['lt with undefined', () => x.lt(undefined as unknown as Tensor), TypeError, /torch\.lt/, /other must be/],
      ['logicalAnd mismatch', () => x.gt(0).logicalAnd(torch.ones([4]).gt(0)), Error, /logical_and/, /must match/],
      ['bool minus bool', () => x.gt(0).sub(x.gt(0)), Error, /sub/, /bool/],
      ['where with a float condition', () => torch.where(x, x, x), Error, /where/, /condition/, /bool/],
    ]),
  );

  tensorTest('wrong types and dtypes', () =>
    expectErrors(({ x }) => [
      ['string operand', () => x.add('x' as unknown as number), TypeError, /torch\.add/, /other must be a Tensor, got 'x'/],
      ['string input', () => torch.mul(S, 2), TypeError, /torch\.mul/, /input must be/, /Tensor/],
      ['matmul string', () => x.matmul(S), TypeError, /torch\.matmul/, /other must be/],
      ['string exponent', () => x.pow('a' as unknown as number), TypeError, /torch\.pow/, /exponent must be/],
      ['string alpha', () => x.add(x, { alpha: 'a' as unknown as number }), TypeError, /torch\.add/, /alpha must be/, /number/],
      ['rounding mode', () => x.div(2, { roundingMode: 'up' as 'floor' }), TypeError, /torch\.div/, /roundingMode/, /'up'/],
      ['float into int64 in place', () => torch.ones([2], { dtype: 'int64' }).mul_(0.5), Error, /mul_/, /Float/, /Long/],
      [
        'in-place on a leaf that requires grad',
        () => torch.ones([2], { requiresGrad: true }).sub_(1),
        Error,
        /sub_/,
        /leaf Variable that requires grad/,
      ],
      ['clamp without bounds', () => x.clamp(), TypeError, /torch\.clamp/, /at least one of min and max/],
      ['clamp mixing numbers and tensors', () => x.clamp(0, x), TypeError, /torch\.clamp/, /both be numbers or both be Tensors/],
      ['leakyRelu slope', () => x.leakyRelu('a' as unknown as number), TypeError, /torch\.leakyRelu/, /negativeSlope must be/],
      ['gelu approximate', () => x.gelu({ approximate: 'fast' as 'tanh' }), TypeError, /torch\.gelu/, /approximate/, /'fast'/],
      ['softmax dim string', () => x.softmax('a' as unknown as number), TypeError, /torch\.softmax/, /dim must be/],
      ['softmax dim out of range', () => x.softmax(5), RangeError, /softmax/, /Dimension out of range/, /5/],
      ['fill_ with a string', () => x.clone().fill_('a' as unknown as number), TypeError, /fill_/, /value must be/],
    ]),
  );

  tensorTest('matmul family shapes', () =>
    expectErrors(({ x }) => [
      ['matmul', () => x.matmul(torch.ones([4, 5])), Error, /matmul/, /cannot be multiplied \(2x3 and 4x5\)/],
      ['matmul of 0-d', () => torch.ones([]).matmul(torch.ones([])), Error, /matmul/, /at least 1D/],
      ['mm of a vector', () => x.mm(torch.ones([3])), Error, /mm/, /matrix/],
      ['bmm of 2-D', () => x.bmm(x), Error, /bmm/, /3D/],
      ['dot of different lengths', () => torch.ones([2]).dot(torch.ones([3])), Error, /dot/, /same number of elements/],
      ['half matmul on CPU', () => x.half().matmul(x.half().t()), Error, /matmul/, /Half/],
    ]),
  );
});

describe('reductions', () => {
  tensorTest('bad dims and keepdim', () =>
    expectErrors(({ x }) => [
      ['sum dim 5', () => x.sum({ dim: 5 }), RangeError, /sum/, /Dimension out of range/, /\[-2, 1\]/, /5/],
      ['mean dims', () => x.mean({ dim: [0, 7] }), RangeError, /mean/, /Dimension out of range/],
      ['max dim 2', () => x.max({ dim: 2 }), RangeError, /max/, /Dimension out of range/],
      ['argmax dim 3', () => x.argmax({ dim: 3 }), RangeError, /argmax/, /Dimension out of range/],
      ['std dim -3', () => x.std({ dim: -3 }), RangeError, /std/, /Dimension out of range/],
      ['var dim fractional', () => x.var({ dim: 0.5 }), RangeError, /torch\.var/, /dim must be an integer/],
      ['std dim fractional', () => x.std({ dim: 0.5 }), RangeError, /torch\.std/, /dim must be an integer/],
      ['sum dim string', () => x.sum({ dim: 'a' as unknown as number }), TypeError, /torch\.sum/, /dim must be an integer/, /'a'/],
      ['sum options string', () => x.sum('a' as unknown as object), TypeError, /torch\.sum/, /options must be an object/],
      ['max with a string', () => x.max('a' as unknown as object as Tensor), TypeError, /torch\.max/, /options must be an object/],
      [
        'mean keepdim string',
        () => x.mean({ dim: 0, keepdim: 'yes' as unknown as boolean }),
        TypeError,
        /torch\.mean/,
        /keepdim must be true or false, got 'yes'/,
      ],
      ['mean of int64', () => torch.ones([2], { dtype: 'int64' }).mean(), Error, /mean/, /floating point/],
      ['topk k too big', () => torch.ones([3]).topk(5), Error, /topk/, /k out of range/],
      ['cumsum dim', () => x.cumsum(4), RangeError, /cumsum/, /Dimension out of range/],
    ]),
  );

  tensorTest('unknown option keys (keepDim for keepdim) are refused, not ignored', () =>
    expectErrors(({ x }) => {
      const b = x.gt(0);
      return [
        ['sum keepDim', () => x.sum({ dim: 1, keepDim: true } as object), TypeError, /torch\.sum/, /unknown option 'keepDim'/, /keepdim/],
        ['mean keepDim', () => x.mean({ dim: 1, keepDim: true } as object), TypeError, /torch\.mean/, /unknown option 'keepDim'/],
        ['max keepDim', () => x.max({ dim: 1, keepDim: true } as { dim: number }), TypeError, /torch\.max/, /unknown option 'keepDim'/],
        ['min keepDim', () => x.min({ dim: 1, keepDim: true } as { dim: number }), TypeError, /torch\.min/, /unknown option 'keepDim'/],
        ['prod keepDim', () => x.prod({ dim: 0, keepDim: true } as object), TypeError, /torch\.prod/, /unknown option 'keepDim'/],
        ['argmax keepDim', () => x.argmax({ dim: 0, keepDim: true } as object), TypeError, /torch\.argmax/, /unknown option 'keepDim'/],
        ['amax keepDim', () => x.amax({ dim: 0, keepDim: true } as object), TypeError, /torch\.amax/, /unknown option 'keepDim'/],
        ['std keepDim', () => x.std({ dim: 0, keepDim: true } as object), TypeError, /torch\.std/, /unknown option 'keepDim'/],
        ['var unbias', () => x.var({ unbias: false } as object), TypeError, /torch\.var/, /unknown option 'unbias'/],
        ['norm keepDim', () => x.norm({ keepDim: true } as object), TypeError, /torch\.norm/, /unknown option 'keepDim'/],
        ['topk dims', () => x.topk(1, { dims: 0 } as object), TypeError, /torch\.topk/, /unknown option 'dims'/],
        ['sort dims', () => x.sort({ dims: 0 } as object), TypeError, /torch\.sort/, /unknown option 'dims'/],
        ['argsort dims', () => x.argsort({ dims: 0 } as object), TypeError, /torch\.argsort/, /unknown option 'dims'/],
        ['all keepDim', () => b.all({ dim: 0, keepDim: true } as object), TypeError, /torch\.all/, /unknown option 'keepDim'/],
        ['any keepDim', () => b.any({ dim: 0, keepDim: true } as object), TypeError, /torch\.any/, /unknown option 'keepDim'/],
        ['logsumexp keepDim', () => x.logsumexp(1, { keepDim: true } as object), TypeError, /torch\.logsumexp/, /unknown option 'keepDim'/],
        ['cumsum dtpye', () => x.cumsum(1, { dtpye: 'float64' } as object), TypeError, /torch\.cumsum/, /unknown option 'dtpye'/],
        ['cumprod dtpye', () => x.cumprod(1, { dtpye: 'float64' } as object), TypeError, /torch\.cumprod/, /unknown option 'dtpye'/],
        ['countNonzero dims', () => x.countNonzero({ dims: 0 } as object), TypeError, /torch\.countNonzero/, /unknown option 'dims'/],
      ];
    }),
  );

  tensorTest('unknown option keys in element-wise ops and conversions', () =>
    expectErrors(({ x }) => [
      ['gelu approx', () => x.gelu({ approx: 'tanh' } as object), TypeError, /torch\.gelu/, /unknown option 'approx'/],
      ['allclose atoll', () => torch.allclose(x, x, { atoll: 1 } as object), TypeError, /torch\.allclose/, /unknown option 'atoll'/],
      ['to dtpye', () => x.to({ dtpye: 'float64' } as object), TypeError, /to/, /unknown option 'dtpye'/],
      ['add alhpa', () => x.add(x, { alhpa: 2 } as object), TypeError, /torch\.add/, /unknown option 'alhpa'/],
      ['sub alhpa', () => x.sub(x, { alhpa: 2 } as object), TypeError, /torch\.sub/, /unknown option 'alhpa'/],
      [
        'div rounding_mode',
        () => x.div(x, { rounding_mode: 'floor' } as object),
        TypeError,
        /torch\.div/,
        /unknown option 'rounding_mode'/,
      ],
      ['softmax dtpye', () => x.softmax(1, { dtpye: 'float64' } as object), TypeError, /torch\.softmax/, /unknown option 'dtpye'/],
      ['logSoftmax dtpye', () => x.logSoftmax(1, { dtpye: 'float64' } as object), TypeError, /torch\.logSoftmax/, /unknown option 'dtpye'/],
      ['clone memory_format', () => x.clone({ memory_format: 'preserve' } as object), TypeError, /clone/, /unknown option 'memory_format'/],
      [
        'contiguous memory_format',
        () => x.contiguous({ memory_format: 'preserve' } as object),
        TypeError,
        /contiguous/,
        /unknown option 'memory_format'/,
      ],
    ]),
  );
});

describe('views, indexing and joins', () => {
  tensorTest('impossible shapes', () =>
    expectErrors(({ x }) => [
      ['view', () => x.view([4, 2]), Error, /view/, /shape '\[4, 2\]' is invalid for input of size 6/],
      ['view with two -1', () => x.view([-1, -1]), Error, /view/, /only one dimension can be inferred/],
      ['reshape', () => x.reshape([5]), Error, /reshape/, /shape '\[5\]' is invalid for input of size 6/],
      [
        'reshape with a string',
        () => x.reshape('abc' as unknown as number[]),
        TypeError,
        /torch\.reshape/,
        /shape must be/,
        /array of integers/,
      ],
      ['permute too short', () => x.permute([0]), Error, /permute/, /does not match the length of the desired ordering/],
      ['permute duplicate', () => x.permute([0, 0]), Error, /permute/, /duplicate dims/],
      ['expand', () => x.expand([4, 3]), Error, /expand/, /expanded size of the tensor \(4\) must match the existing size \(2\)/],
      ['expand with fewer dims', () => x.expand([3]), Error, /expand/, /number of sizes provided/],
      ['unflatten', () => torch.ones([6]).unflatten(0, [4, 2]), Error, /unflatten/, /\[4, 2\]/, /6/],
      ['transpose dim', () => x.transpose(0, 3), RangeError, /transpose/, /Dimension out of range/],
      ['transpose string dim', () => x.transpose('a' as unknown as number, 1), TypeError, /torch\.transpose/, /dim0 must be/],
      ['unsqueeze dim', () => x.unsqueeze(5), RangeError, /unsqueeze/, /Dimension out of range/, /\[-3, 2\]/],
      ['unsqueeze fractional dim', () => x.unsqueeze(0.5), RangeError, /torch\.unsqueeze/, /dim must be/, /integer/],
      ['squeeze dim', () => x.squeeze(5), RangeError, /squeeze/, /Dimension out of range/],
      ['flip dim', () => x.flip([3]), RangeError, /flip/, /Dimension out of range/],
      ['flip string', () => x.flip('a' as unknown as number[]), TypeError, /torch\.flip/, /dims must be/],
      ['roll dim', () => x.roll(1, 5), RangeError, /roll/, /Dimension out of range/],
      ['roll shifts/dims mismatch', () => x.roll([1, 2], [0]), Error, /roll/, /shifts and dimensions must align/],
      ['rot90 same dims', () => x.rot90(1, [0, 0]), Error, /rot90/, /different/],
      ['tril of 1-D', () => torch.ones([3]).tril(), RangeError, /tril/, /Dimension out of range/],
      ['size out of range', () => x.size(5), RangeError, /size/, /dim 5 is out of range/, /2 dimensions/],
      ['split sizes', () => x.split([1, 2]), Error, /split_with_sizes/, /sum exactly to 2/],
      ['split size 0', () => x.split(0), Error, /split/, /split_size/],
      ['chunk 0', () => x.chunk(0), Error, /chunk/, /greater than 0/],
      ['unbind dim', () => x.unbind(4), RangeError, /unbind/, /Dimension out of range/],
      ['slice step 0', () => x.slice(0, 0, 1, 0), Error, /slice/, /step must be positive/],
    ]),
  );

  tensorTest('indexing out of range', () =>
    expectErrors(({ x, idx }) => [
      ['select index', () => x.select(0, 5), RangeError, /select/, /index 5 out of range/, /\[2, 3\]/],
      ['select dim', () => x.select(5, 0), RangeError, /select/, /Dimension out of range/],
      ['narrow past the end', () => x.narrow(1, 2, 3), Error, /narrow/, /start \(2\) \+ length \(3\) exceeds dimension size \(3\)/],
      ['narrow negative dim', () => x.narrow(-5, 0, 1), RangeError, /narrow/, /Dimension out of range/],
      ['indexSelect', () => x.indexSelect(0, long([5])), RangeError, /index_select/, /index out of range/],
      ['indexSelect float index', () => x.indexSelect(0, torch.ones([1])), Error, /index_select/, /int32 or int64/],
      ['gather', () => x.gather(1, long([5], [1, 1])), Error, /gather/, /index 5 is out of bounds for dimension 1 with size 3/],
      ['gather float index', () => x.gather(1, torch.ones([2, 1])), Error, /gather/, /int64/],
      ['gather rank', () => x.gather(1, idx), Error, /gather/, /same number of dimensions/],
      ['index', () => x.index([long([7])]), RangeError, /index/, /index 7 is out of bounds for dimension 0 with size 2/],
      ['index with too many indices', () => x.index([idx, idx, idx]), RangeError, /index/, /too many indices/],
      ['index float', () => x.index([torch.ones([1])]), RangeError, /index/, /long, byte or bool/],
      ['index not an array', () => x.index(idx as unknown as Tensor[]), TypeError, /torch\.index/, /indices must be an array/],
      ['scatter', () => x.scatter(1, long([5], [1, 1]), 1), Error, /scatter/, /index 5 is out of bounds/],
      [
        'scatter reduce',
        () => x.scatter(1, long([0], [1, 1]), 1, { reduce: 'max' as 'add' }),
        TypeError,
        /torch\.scatter/,
        /reduce/,
        /'max'/,
      ],
      ['maskedFill mask shape', () => x.maskedFill(torch.ones([4]).gt(0), 1), Error, /masked_fill/, /must match/],
      ['maskedFill float mask', () => x.maskedFill(torch.ones([2, 3]), 0), TypeError, /maskedFill/, /mask/, /bool/],
      ['oneHot class too large', () => F.oneHot(long([5]), 3), Error, /one_hot/, /smaller than num_classes/],
      ['oneHot of floats', () => F.oneHot(x), Error, /one_hot/, /index tensor/],
    ]),
  );

  tensorTest('cat and stack', () =>
    expectErrors(({ x, v }) => [
      [
        'cat mismatched shapes',
        () => torch.cat([x, torch.ones([2, 4])], 0),
        Error,
        /cat/,
        /Sizes of tensors must match except in dimension 0/,
        /Expected size 3 but got size 4/,
      ],
      ['cat mismatched ranks', () => torch.cat([x, v]), Error, /cat/, /same number of dimensions/],
      ['cat dim', () => torch.cat([x, x], 3), RangeError, /cat/, /Dimension out of range/],
      ['cat nothing', () => torch.cat([]), Error, /cat/, /non-empty list/],
      ['cat of a tensor', () => torch.cat(x as unknown as Tensor[]), TypeError, /torch\.cat/, /tensors must be/, /array of Tensors/],
      ['cat with a string', () => torch.cat([x, S]), TypeError, /torch\.cat/, /tensors\[1\] must be/, /Tensor/],
      [
        'stack mismatched shapes',
        () => torch.stack([x, torch.ones([2, 4])]),
        Error,
        /stack/,
        /equal size/,
        /\[2, 3\] at entry 0 and \[2, 4\] at entry 1/,
      ],
      ['stack with a string', () => torch.stack([x, S]), TypeError, /torch\.stack/, /tensors\[1\] must be/],
      ['expandAs a string', () => x.expandAs(S), TypeError, /expandAs/, /other must be/, /Tensor/],
    ]),
  );
});

describe('nn.functional', () => {
  tensorTest('conv2d', () =>
    expectErrors(({ img, w }) => [
      [
        'channel mismatch',
        () => F.conv2d(torch.ones([1, 3, 6, 6]), w),
        RangeError,
        /F\.conv2d/,
        /input has 3 channels/,
        /\[3, 2, 3, 3\]/,
        /expects 2/,
      ],
      ['2-D input', () => F.conv2d(torch.ones([6, 6]), w), RangeError, /F\.conv2d/, /input must be 4-D/, /\[6, 6\]/],
      ['3-D weight', () => F.conv2d(img, torch.ones([3, 2, 3])), RangeError, /F\.conv2d/, /weight must be 4-D/],
      ['groups channel mismatch', () => F.conv2d(torch.ones([1, 4, 5, 5]), w, { groups: 2 }), Error, /conv2d/, /groups=2/],
      ['groups 0', () => F.conv2d(img, w, { groups: 0 }), RangeError, /F\.conv2d/, /groups must be a positive integer/],
      ['fractional groups', () => F.conv2d(img, w, { groups: 1.5 }), RangeError, /F\.conv2d/, /groups must be/, /integer/],
      ['three strides', () => F.conv2d(img, w, { stride: [1, 2, 3] }), RangeError, /F\.conv2d/, /stride must be/, /2 integers/],
      ['stride 0', () => F.conv2d(img, w, { stride: 0 }), Error, /conv2d/, /non-positive stride/],
      ['negative padding', () => F.conv2d(img, w, { padding: -1 }), Error, /conv2d/, /negative padding/],
      ["padding 'full'", () => F.conv2d(img, w, { padding: 'full' as 'same' }), TypeError, /F\.conv2d/, /padding must be/, /'full'/],
      ["padding 'same' with stride", () => F.conv2d(img, w, { padding: 'same', stride: 2 }), Error, /conv2d/, /strided/],
      [
        'kernel larger than input',
        () => F.conv2d(torch.ones([1, 2, 2, 2]), w),
        Error,
        /conv2d/,
        /Kernel size can't be greater than actual input size/,
      ],
      ['bias size', () => F.conv2d(img, w, { bias: torch.ones([4]) }), Error, /conv2d/, /bias/, /3 elements/],
      ['bias string', () => F.conv2d(img, w, { bias: S }), TypeError, /F\.conv2d/, /bias must be/, /Tensor/],
      ['input string', () => F.conv2d(S, w), TypeError, /F\.conv2d/, /input must be/, /Tensor/],
      ['weight missing', () => (F.conv2d as (i: Tensor) => Tensor)(img), TypeError, /F\.conv2d/, /weight must be/],
      ['dtype mismatch', () => F.conv2d(img, w.double()), Error, /conv2d/, /Float/, /Double/],
      ['unknown option', () => F.conv2d(img, w, { pading: 1 } as object), TypeError, /F\.conv2d/, /unknown option 'pading'/],
    ]),
  );

  tensorTest('convTranspose2d', () =>
    expectErrors(({ img }) => {
      const wt = torch.ones([2, 3, 3, 3]);
      return [
        [
          'channel mismatch',
          () => F.convTranspose2d(torch.ones([1, 3, 5, 5]), wt),
          RangeError,
          /F\.convTranspose2d/,
          /input has 3 channels/,
          /expects 2/,
        ],
        ['2-D input', () => F.convTranspose2d(torch.ones([6, 6]), wt), RangeError, /F\.convTranspose2d/, /4-D/],
        ['3-D weight', () => F.convTranspose2d(img, torch.ones([2, 3, 3])), RangeError, /F\.convTranspose2d/, /weight must be 4-D/],
        [
          'outputPadding too large',
          () => F.convTranspose2d(img, wt, { outputPadding: 3 }),
          Error,
          /conv_transpose2d/,
          /output padding must be smaller/,
        ],
        [
          'three paddings',
          () => F.convTranspose2d(img, wt, { padding: [1, 1, 1] }),
          RangeError,
          /F\.convTranspose2d/,
          /padding must be/,
          /2 integers/,
        ],
        [
          'unknown option',
          () => F.convTranspose2d(img, wt, { output_padding: 1 } as object),
          TypeError,
          /F\.convTranspose2d/,
          /unknown option 'output_padding'/,
        ],
        ['weight string', () => F.convTranspose2d(img, S), TypeError, /F\.convTranspose2d/, /weight must be/],
      ];
    }),
  );

  tensorTest('linear', () =>
    expectErrors(({ x }) => [
      [
        'in_features mismatch',
        () => F.linear(x, torch.ones([4, 5])),
        RangeError,
        /F\.linear/,
        /last dimension/,
        /\[2, 3\]/,
        /in_features 5/,
      ],
      ['3-D weight', () => F.linear(x, torch.ones([2, 3, 4])), RangeError, /F\.linear/, /weight must be 2-D/],
      ['0-d input', () => F.linear(torch.ones([]), torch.ones([2, 3])), RangeError, /F\.linear/, /last dimension/],
      ['bias size', () => F.linear(x, torch.ones([4, 3]), torch.ones([5])), Error, /linear/, /\[5\]/],
      ['weight string', () => F.linear(x, S), TypeError, /F\.linear/, /weight must be/, /Tensor/],
      ['bias string', () => F.linear(x, torch.ones([4, 3]), S), TypeError, /F\.linear/, /bias must be/, /Tensor/],
    ]),
  );

  tensorTest('batchNorm, groupNorm, layerNorm', () =>
    expectErrors(({ img }) => [
      [
        'running mean size',
        () => F.batchNorm(img, torch.zeros([4]), torch.ones([2])),
        RangeError,
        /F\.batchNorm/,
        /runningMean must have shape \[2\]/,
        /got \[4\]/,
      ],
      [
        'running var size',
        () => F.batchNorm(img, torch.zeros([2]), torch.ones([3]), { training: true }),
        RangeError,
        /F\.batchNorm/,
        /runningVar must have shape \[2\]/,
      ],
      [
        'weight size',
        () => F.batchNorm(img, null, null, { training: true, weight: torch.ones([3]) }),
        RangeError,
        /F\.batchNorm/,
        /weight must have shape \[2\]/,
      ],
      ['eval without stats', () => F.batchNorm(img, null, null), TypeError, /F\.batchNorm/, /runningMean and runningVar are required/],
      [
        '1-D input',
        () => F.batchNorm(torch.ones([3]), null, null, { training: true }),
        RangeError,
        /F\.batchNorm/,
        /at least 2 dimensions/,
      ],
      [
        'training string',
        () => F.batchNorm(img, null, null, { training: 'yes' as unknown as boolean }),
        TypeError,
        /F\.batchNorm/,
        /training must be true or false, got 'yes'/,
      ],
      [
        'unknown option',
        () => F.batchNorm(img, null, null, { training: true, momemtum: 0.1 } as object),
        TypeError,
        /F\.batchNorm/,
        /unknown option 'momemtum'/,
      ],
      ['int64 running mean', () => F.batchNorm(img, torch.zeros([2], { dtype: 'int64' }), torch.ones([2])), Error, /batch_norm/, /Float/],
      ['running mean string', () => F.batchNorm(img, S, torch.ones([2])), TypeError, /F\.batchNorm/, /runningMean must be/, /Tensor/],
      [
        'weight string',
        () => F.batchNorm(img, null, null, { training: true, weight: S }),
        TypeError,
        /F\.batchNorm/,
        /weight must be/,
        /Tensor/,
      ],
      ['groupNorm groups', () => F.groupNorm(torch.ones([1, 6, 2, 2]), 4), RangeError, /F\.groupNorm/, /divisible by numGroups=4/],
      ['groupNorm 0 groups', () => F.groupNorm(img, 0), RangeError, /F\.groupNorm/, /numGroups=0/],
      ['groupNorm weight', () => F.groupNorm(img, 1, { weight: torch.ones([3]) }), Error, /group_norm/, /weight/, /\[3\]/],
      ['layerNorm shape', () => F.layerNorm(torch.ones([2, 3]), [4]), Error, /layer_norm/, /normalized_shape=\[4\]/],
    ]),
  );

  tensorTest('pooling', () =>
    expectErrors(({ img }) => [
      [
        'maxPool2d padding larger than half the kernel',
        () => F.maxPool2d(img, 2, { padding: 2 }),
        RangeError,
        /F\.maxPool2d/,
        /padding \[2, 2\]/,
        /at most half of kernelSize \[2, 2\]/,
      ],
      [
        'avgPool2d padding larger than half the kernel',
        () => F.avgPool2d(img, 3, { padding: [1, 2] }),
        RangeError,
        /F\.avgPool2d/,
        /padding/,
        /at most half/,
      ],
      ['maxPool2d 2-D input', () => F.maxPool2d(torch.ones([4, 4]), 2), RangeError, /F\.maxPool2d/, /4-D/, /\[4, 4\]/],
      ['maxPool2d kernel larger than input', () => F.maxPool2d(torch.ones([1, 1, 2, 2]), 3), Error, /max_pool2d/, /too small/],
      ['maxPool2d stride 0', () => F.maxPool2d(img, 2, { stride: 0 }), Error, /max_pool2d/, /stride should not be zero/],
      ['maxPool2d negative padding', () => F.maxPool2d(img, 2, { padding: -1 }), Error, /max_pool2d/, /pad must be non-negative/],
      ['maxPool2d kernel string', () => F.maxPool2d(img, 'a' as unknown as number), TypeError, /F\.maxPool2d/, /kernelSize must be/],
      [
        'maxPool2d unknown option',
        () => F.maxPool2d(img, 2, { kernel_size: 2 } as object),
        TypeError,
        /F\.maxPool2d/,
        /unknown option 'kernel_size'/,
      ],
      ['avgPool2d divisor 0', () => F.avgPool2d(img, 2, { divisorOverride: 0 }), Error, /avg_pool2d/, /divisor/],
      [
        'avgPool2d unknown option',
        () => F.avgPool2d(img, 2, { count_include_pad: false } as object),
        TypeError,
        /F\.avgPool2d/,
        /unknown option 'count_include_pad'/,
      ],
      ['adaptiveAvgPool2d 2-D', () => F.adaptiveAvgPool2d(torch.ones([4, 4]), 2), RangeError, /F\.adaptiveAvgPool2d/, /4-D/],
      ['adaptiveAvgPool2d 3 sizes', () => F.adaptiveAvgPool2d(img, [2, 2, 2]), TypeError, /F\.adaptiveAvgPool2d/, /outputSize/, /\[h, w\]/],
      ['adaptiveAvgPool2d negative', () => F.adaptiveAvgPool2d(img, -1), Error, /adaptive_avg_pool2d/, /greater than or equal to 0/],
      [
        'adaptiveMaxPool2d unknown option',
        () => F.adaptiveMaxPool2d(img, 2, { return_indices: true } as object),
        TypeError,
        /F\.adaptiveMaxPool2d/,
        /unknown option 'return_indices'/,
      ],
      ['maxUnpool2d indices string', () => F.maxUnpool2d(img, S, 2), TypeError, /F\.maxUnpool2d/, /indices must be/],
    ]),
  );

  tensorTest('interpolate and pad', () =>
    expectErrors(({ img }) => [
      [
        'both size and scaleFactor',
        () => F.interpolate(img, { size: 8, scaleFactor: 2 }),
        TypeError,
        /F\.interpolate/,
        /exactly one of size and scaleFactor/,
      ],
      ['neither size nor scaleFactor', () => F.interpolate(img, {}), TypeError, /F\.interpolate/, /exactly one of size and scaleFactor/],
      [
        'alignCorners with nearest',
        () => F.interpolate(img, { size: 8, alignCorners: true }),
        TypeError,
        /F\.interpolate/,
        /alignCorners/,
        /'nearest'/,
      ],
      [
        'alignCorners false with nearest',
        () => F.interpolate(img, { size: 8, mode: 'nearest', alignCorners: false }),
        TypeError,
        /F\.interpolate/,
        /alignCorners/,
      ],
      ['3-D input', () => F.interpolate(torch.ones([1, 4, 4]), { size: 8 }), RangeError, /F\.interpolate/, /4-D/, /\[1, 4, 4\]/],
      ['three sizes', () => F.interpolate(img, { size: [1, 2, 3] }), RangeError, /F\.interpolate/, /size must be/, /2 integers/],
      [
        'zero size',
        () => F.interpolate(img, { size: [0, 4] }),
        RangeError,
        /F\.interpolate/,
        /size must be an integer or an array of 2 positive integers, got \[0, 4\]/,
      ],
      [
        'negative scale',
        () => F.interpolate(img, { scaleFactor: -1 }),
        RangeError,
        /F\.interpolate/,
        /scaleFactor must be a positive number or an array of 2 of them, got -1/,
      ],
      ['one scale in an array', () => F.interpolate(img, { scaleFactor: [2] }), TypeError, /F\.interpolate/, /scaleFactor/],
      [
        'unknown mode',
        () => F.interpolate(img, { size: 8, mode: 'linear' as 'bilinear' }),
        TypeError,
        /F\.interpolate/,
        /mode must be one of/,
        /'linear'/,
      ],
      [
        'unknown option',
        () => F.interpolate(img, { size: 3, align_corners: true } as object),
        TypeError,
        /F\.interpolate/,
        /unknown option 'align_corners'/,
      ],
      ['no options', () => (F.interpolate as (x: Tensor) => Tensor)(img), TypeError, /F\.interpolate/, /size|scaleFactor|options/],
      ['pad odd length', () => F.pad(img, [1, 2, 3]), RangeError, /F\.pad/, /even length/, /\[1, 2, 3\]/],
      ['pad too long', () => F.pad(img, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), RangeError, /F\.pad/, /at most 2 \* 4/],
      ['pad number', () => F.pad(img, 1 as unknown as number[]), TypeError, /F\.pad/, /pad must be/, /array of integers/],
      ['pad mode', () => F.pad(img, [1, 1], { mode: 'mirror' as 'reflect' }), TypeError, /F\.pad/, /mode must be/, /'mirror'/],
      [
        'value with reflect',
        () => F.pad(img, [1, 1], { mode: 'reflect', value: 1 }),
        TypeError,
        /F\.pad/,
        /value only applies to mode 'constant'/,
      ],
      [
        'reflect pad as large as the input',
        () => F.pad(img, [6, 6, 0, 0], { mode: 'reflect' }),
        Error,
        /pad/,
        /Padding size should be less than the corresponding input dimension/,
      ],
      ['unknown option', () => F.pad(img, [1, 1], { fill: 0 } as object), TypeError, /F\.pad/, /unknown option 'fill'/],
      ['input string', () => F.pad(S, [1, 1]), TypeError, /F\.pad/, /input must be/],
    ]),
  );

  tensorTest('dropout', () =>
    expectErrors(({ x }) => [
      ['p > 1', () => F.dropout(x, { p: 2 }), RangeError, /F\.dropout/, /p must be a number from 0 to 1, got 2/],
      ['training string', () => F.dropout(x, { training: 'no' as unknown as boolean }), TypeError, /F\.dropout/, /training must be/],
      ['dropout2d of 2-D', () => F.dropout2d(x), RangeError, /F\.dropout2d/, /4-D or 3-D/],
      ['dropout2d string', () => F.dropout2d(S), TypeError, /F\.dropout2d/, /input must be/, /Tensor/],
    ]),
  );
});

describe('losses', () => {
  tensorTest('binaryCrossEntropyWithLogits', () =>
    expectErrors(({ x }) => [
      [
        'target shape',
        () => F.binaryCrossEntropyWithLogits(x, torch.ones([3, 2])),
        RangeError,
        /F\.binaryCrossEntropyWithLogits/,
        /target shape \[3, 2\] must equal input shape \[2, 3\]/,
      ],
      [
        'reduction',
        () => F.binaryCrossEntropyWithLogits(x, x, { reduction: 'avg' as 'mean' }),
        TypeError,
        /F\.binaryCrossEntropyWithLogits/,
        /reduction must be/,
        /'avg'/,
      ],
      [
        'posWeight size',
        () => F.binaryCrossEntropyWithLogits(x, x, { posWeight: torch.ones([4]) }),
        Error,
        /binary_cross_entropy_with_logits/,
        /must match/,
      ],
      [
        'target string',
        () => F.binaryCrossEntropyWithLogits(x, S),
        TypeError,
        /F\.binaryCrossEntropyWithLogits/,
        /target must be/,
        /Tensor/,
      ],
      [
        'unknown option',
        () => F.binaryCrossEntropyWithLogits(x, x, { pos_weight: x } as object),
        TypeError,
        /F\.binaryCrossEntropyWithLogits/,
        /unknown option 'pos_weight'/,
      ],
      [
        'int64 target',
        () => F.binaryCrossEntropyWithLogits(x, torch.ones([2, 3], { dtype: 'int64' })),
        TypeError,
        /F\.binaryCrossEntropyWithLogits/,
        /target/,
        /float/,
      ],
    ]),
  );

  tensorTest('crossEntropy', () =>
    expectErrors(({ x }) => {
      const seg = torch.ones([2, 3, 4, 4]);
      return [
        ['int32 target', () => F.crossEntropy(x, torch.zeros([2], { dtype: 'int32' })), TypeError, /F\.crossEntropy/, /int64/, /int32/],
        ['uint8 target', () => F.crossEntropy(x, torch.zeros([2], { dtype: 'uint8' })), TypeError, /F\.crossEntropy/, /int64/, /uint8/],
        [
          'target batch',
          () => F.crossEntropy(seg, torch.zeros([3, 4, 4], { dtype: 'int64' })),
          RangeError,
          /F\.crossEntropy/,
          /\[3, 4, 4\]/,
          /\[2, 3, 4, 4\]/,
        ],
        ['target rank', () => F.crossEntropy(seg, torch.zeros([2, 4], { dtype: 'int64' })), RangeError, /F\.crossEntropy/, /\[2, 4\]/],
        [
          'target spatial size',
          () => F.crossEntropy(seg, torch.zeros([2, 4, 5], { dtype: 'int64' })),
          RangeError,
          /F\.crossEntropy/,
          /\[2, 4, 5\]/,
          /\[2, 3, 4, 4\]/,
        ],
        ['probability target shape', () => F.crossEntropy(x, torch.ones([2, 4])), RangeError, /F\.crossEntropy/, /\[2, 4\]/, /\[2, 3\]/],
        ['class out of range', () => F.crossEntropy(x, long([0, 7])), RangeError, /cross_entropy/, /Target 7 is out of bounds/],
        ['weight size', () => F.crossEntropy(x, long([0, 1]), { weight: torch.ones([5]) }), Error, /cross_entropy/, /weight/, /3 classes/],
        [
          'labelSmoothing 2',
          () => F.crossEntropy(x, long([0, 1]), { labelSmoothing: 2 }),
          RangeError,
          /F\.crossEntropy/,
          /labelSmoothing must be a number from 0 to 1, got 2/,
        ],
        [
          'fractional ignoreIndex',
          () => F.crossEntropy(x, long([0, 1]), { ignoreIndex: 1.5 }),
          RangeError,
          /F\.crossEntropy/,
          /ignoreIndex must be/,
          /integer/,
        ],
        [
          'unknown option',
          () => F.crossEntropy(x, long([0, 1]), { ignore_index: 1 } as object),
          TypeError,
          /F\.crossEntropy/,
          /unknown option 'ignore_index'/,
        ],
        ['target string', () => F.crossEntropy(x, S), TypeError, /F\.crossEntropy/, /target must be/],
      ];
    }),
  );

  tensorTest('nllLoss and the regression losses', () =>
    expectErrors(({ x }) => [
      ['float target', () => F.nllLoss(x, torch.ones([2])), TypeError, /F\.nllLoss/, /int64/, /float32/],
      ['int32 target', () => F.nllLoss(x, torch.zeros([2], { dtype: 'int32' })), TypeError, /F\.nllLoss/, /int64/, /int32/],
      ['class out of range', () => F.nllLoss(x, long([0, 9])), RangeError, /nll_loss/, /Target 9 is out of bounds/],
      ['target batch', () => F.nllLoss(x, torch.zeros([3], { dtype: 'int64' })), RangeError, /nllLoss|nll_loss/, /batch_size|\[3\]/],
      [
        'unknown option',
        () => F.nllLoss(x, long([0, 1]), { ignore_index: 1 } as object),
        TypeError,
        /F\.nllLoss/,
        /unknown option 'ignore_index'/,
      ],
      ['mseLoss reduction', () => F.mseLoss(x, x, { reduction: 'avg' as 'mean' }), TypeError, /F\.mseLoss/, /reduction must be/],
      ['mseLoss target string', () => F.mseLoss(x, S), TypeError, /F\.mseLoss/, /target must be/],
      [
        'mseLoss unknown option',
        () => F.mseLoss(x, x, { reductoin: 'sum' } as object),
        TypeError,
        /F\.mseLoss/,
        /unknown option 'reductoin'/,
      ],
      ['l1Loss unknown option', () => F.l1Loss(x, x, { reductoin: 'sum' } as object), TypeError, /F\.l1Loss/, /unknown option 'reductoin'/],
      [
        'smoothL1Loss unknown option',
        () => F.smoothL1Loss(x, x, { Beta: 2 } as object),
        TypeError,
        /F\.smoothL1Loss/,
        /unknown option 'Beta'/,
      ],
    ]),
  );
});

describe('tensors, autograd and the op registry', () => {
  tensorTest('item(), disposed tensors, wrong grads', () =>
    expectErrors(({ x, v }) => {
      const gone = torch.ones([2]);
      gone.dispose();
      return [
        ['item of 2 elements', () => v.item(), RangeError, /item/, /3 elements cannot be converted to a number/, /float32\[3\]/],
        ['item of none', () => torch.ones([0]).item(), RangeError, /item/, /0 elements/],
        ['disposed as input', () => gone.add(1), Error, /torch\.add/, /input is a disposed Tensor/],
        ['disposed as other', () => x.mul(gone), Error, /torch\.mul/, /other is a disposed Tensor/],
        ['disposed in a list', () => torch.stack([gone]), Error, /torch\.stack/, /tensors\[0\] is a disposed Tensor/],
        ['disposed as conv weight', () => F.conv2d(torch.ones([1, 2, 4, 4]), gone), Error, /F\.conv2d/, /weight is a disposed Tensor/],
        ['disposed data', () => gone.toArray(), Error, /disposed/],
        ['disposed shape', () => gone.shape, Error, /disposed/],
        [
          'assign a string grad',
          () => {
            x.grad = S;
          },
          TypeError,
          /grad/,
          /Tensor or null/,
        ],
        ['size with a string', () => x.size('a' as unknown as number), TypeError, /size/, /dim must be an integer/],
      ];
    }),
  );

  tensorTest('backward', () =>
    expectErrors(({ x }) => {
      const p = torch.ones([2], { requiresGrad: true });
      const gone = torch.ones([2]);
      gone.dispose();
      return [
        ['on a tensor without grad', () => x.sum().backward(), Error, /backward/, /does not require grad/],
        ['non-scalar without a gradient', () => p.mul(2).backward(), Error, /backward/, /scalar outputs/, /\[2\]/],
        [
          'gradient of the wrong shape',
          () => p.mul(2).backward(torch.ones([3])),
          RangeError,
          /backward/,
          /gradient float32\[3\] must have the shape of the tensor float32\[2\]/,
        ],
        ['gradient string', () => p.mul(2).backward(S), TypeError, /backward/, /gradient must be a Tensor/],
        [
          'retainGraph string',
          () =>
            p
              .mul(2)
              .sum()
              .backward(null, { retainGraph: 'y' as unknown as boolean }),
          TypeError,
          /backward/,
          /retainGraph must be true or false, got 'y'/,
        ],
        ['disposed gradient', () => p.mul(2).backward(gone), Error, /backward/, /gradient/, /disposed/],
        [
          'autograd.backward lengths',
          () => torch.autograd.backward([p.sum()], [null, null]),
          RangeError,
          /autograd\.backward/,
          /1 tensors but 2 gradients/,
        ],
        [
          'autograd.backward not an array',
          () => torch.autograd.backward(p as unknown as Tensor[]),
          TypeError,
          /autograd\.backward/,
          /array of Tensors/,
        ],
        [
          'second backward',
          () => {
            const y = p.exp().sum();
            y.backward();
            y.backward();
          },
          Error,
          /backward/,
          /second time/,
        ],
      ];
    }),
  );

  tensorTest('ops.call and runtime settings', () =>
    expectErrors(({ x }) => [
      ['unknown op', () => torch.ops.call('aten::definitely_not_an_op', x), Error, /ops\.call/, /no operator aten::definitely_not_an_op/],
      ['unknown overload', () => torch.ops.call('aten::add.nope', x, x), Error, /ops\.call/, /aten::add\.nope/],
      [
        'no matching overload',
        () => torch.ops.call('add', 'x', 'y'),
        TypeError,
        /ops\.call/,
        /no overload of add accepts \(string, string\)/,
        /candidates/,
        /aten::add\.Tensor/,
      ],
      ['unknown keyword', () => torch.ops.call('aten::add', x, x, { alhpa: 2 }), TypeError, /ops\.call/, /\{alhpa\}/],
      ['runtime error inside', () => torch.ops.call('aten::add', x, torch.ones([4])), Error, /add/, /must match/],
      ['name not a string', () => torch.ops.call(5 as unknown as string), TypeError, /ops\.call/, /name must be an operator name/, /got 5/],
      ['setNumThreads 0', () => torch.setNumThreads(0), RangeError, /setNumThreads/, /positive integer/],
      ['manualSeed -1', () => torch.manualSeed(-1), RangeError, /manualSeed/, /non-negative/],
      ['setRngState of a number', () => torch.setRngState(5 as unknown as Tensor), TypeError, /setRngState/, /Tensor/],
      ['noGrad of a number', () => torch.noGrad(5 as unknown as () => void), TypeError, /noGrad/, /function/],
    ]),
  );

  tensorTest('serialization entry points', () =>
    expectErrors(() => [
      [
        'loadPth of a missing file',
        () => torch.loadPth('/nonexistent/dir/model.pth'),
        Error,
        /loadPth/,
        /\/nonexistent\/dir\/model\.pth/,
        /ENOENT/,
      ],
      ['loadSafetensors of a directory', () => torch.loadSafetensors('/tmp'), Error, /loadSafetensors/, /\/tmp/],
      ['loadPth of a number', () => torch.loadPth(5 as unknown as string), TypeError, /loadPth/, /path must be a string/],
      [
        'save a string as a tensor',
        () => torch.saveSafetensors('/tmp/never-written.safetensors', { a: S }),
        TypeError,
        /saveSafetensors/,
        /tensors\['a'\] must be a Tensor, got 'x'/,
      ],
      ['save to a number', () => torch.saveSafetensors(5 as unknown as string, {}), TypeError, /saveSafetensors/, /path must be a string/],
    ]),
  );
});

describe('failed calls leave nothing behind', () => {
  /** Asserts that fn throws and that the live-tensor count is unchanged (no tidy around it). */
  function noLeak(what: string, fn: () => unknown): string | null {
    const before = torch.liveTensors();
    let threw = false;
    try {
      fn();
    } catch {
      threw = true;
    }
    const leaked = torch.liveTensors() - before;
    if (!threw) return `${what}: did not throw`;
    return leaked === 0 ? null : `${what}: leaked ${leaked} tensor(s)`;
  }

  tensorTest('no tensor leaks from a call that throws, outside any tidy', () => {
    const x = torch.ones([2, 3]);
    const img = torch.ones([1, 2, 6, 6]);
    const w = torch.ones([3, 2, 3, 3]);
    const wrong = torch.ones([4]);
    const t9 = torch.tensor([0, 9], { dtype: 'int64' });
    const total = x.sum();
    const problems = [
      noLeak('broadcast mismatch', () => x.add(wrong)),
      noLeak('conv2d channel mismatch', () => F.conv2d(x, w)),
      noLeak('conv2d inside libtorch', () => F.conv2d(img, w, { stride: 0 })),
      noLeak('maxPool2d with indices', () => F.maxPool2d(img, 7, { returnIndices: true })),
      noLeak('too large allocation', () => torch.zeros([1e7, 1e7])),
      noLeak('backward without grad', () => total.backward()),
      noLeak('item of many', () => x.item()),
      noLeak('cat mismatch', () => torch.cat([x, wrong])),
      noLeak('crossEntropy out of range', () => F.crossEntropy(x, t9)),
      noLeak('split mismatch', () => x.split([1, 5])),
      noLeak('interpolate bad options', () => F.interpolate(img, { size: 4, scaleFactor: 2 })),
      noLeak('torch.tensor with an unknown dtype', () => torch.tensor([1, 2], { dtype: 'float8' as 'float32' })),
      noLeak('torch.tensor on cuda without CUDA', () => torch.tensor([1, 2], { device: 'cuda' })),
      noLeak('ones int64 with requiresGrad', () => torch.ones([2], { dtype: 'int64', requiresGrad: true })),
      noLeak('arange with requiresGrad', () => torch.arange(3, { requiresGrad: true })),
    ].filter((p): p is string => p !== null);
    torch.dispose([x, img, w, wrong, t9, total]);
    if (problems.length > 0) assert.fail(`${problems.length} leak(s):\n  ${problems.join('\n  ')}`);
  });

  tensorTest('the process survives hundreds of failing native calls in a row', () => {
    torch.tidy(() => {
      const x = torch.ones([2, 3]);
      const y = torch.ones([4]);
      let n = 0;
      for (let i = 0; i < 500; i++) {
        try {
          x.add(y);
        } catch {
          n++;
        }
      }
      assert.equal(n, 500);
      assert.deepEqual(nums(x.add(1)), [2, 2, 2, 2, 2, 2]);
    });
  });
});
