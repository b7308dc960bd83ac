// Tensor files through the public API: torch.saveSafetensors / loadSafetensors /
// loadSafetensorsMetadata / loadPth. The fixtures come from
// scripts/fixtures/make_serialization_fixtures.py (torch 1.13): every tensor a .pth fixture holds
// is also in expected.safetensors as "<group>/<path>", written by the script's own writer.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { torch, F, isTensor, type Tensor, type DType } from '../src/index.js';
import { decodeSafetensors } from '../src/torch/serialization/safetensors-format.js';
import { FIXTURES, tensorTest, assertThrows } from './helpers.js';

/** A tensor's values as plain numbers. */
const nums = (t: Tensor): number[] => Array.from(t.toArray() as unknown as ArrayLike<number>, Number);

const DIR = join(FIXTURES, 'serialization');
const fixture = (name: string) => join(DIR, name);
const EXPECTED = fixture('expected.safetensors');

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'segkit-serialization-'));
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh empty directory under the suite's temp dir. */
let dirCount = 0;
function freshDir(): string {
  const d = join(tmp, `case-${++dirCount}`);
  mkdirSync(d);
  return d;
}

function bytesOf(t: Tensor): Uint8Array {
  const a = t.toArray();
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Same dtype, shape and bit pattern (float16/bfloat16 compare through their exact float32 widening). */
function assertSameBits(actual: unknown, expected: Tensor, what: string): void {
  assert.ok(isTensor(actual), `${what}: expected a Tensor, got ${typeof actual}`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  assert.deepEqual(bytesOf(actual), bytesOf(expected), `${what}: values`);
}

/** Looks up "a/b/c" in nested plain objects and arrays. */
function at(root: unknown, path: string[]): unknown {
  let v = root;
  for (const k of path) {
    assert.ok(v !== null && typeof v === 'object', `no ${path.join('/')}`);
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** Every tensor in `loaded` equals expected.safetensors' "<group>/..." tensors, and there are no others. */
function assertMatchesExpected(group: string, loaded: unknown): void {
  const expected = torch.loadSafetensors(EXPECTED);
  try {
    const keys = Object.keys(expected).filter((k) => k.startsWith(`${group}/`));
    assert.ok(keys.length > 0);
    for (const k of keys) assertSameBits(at(loaded, k.split('/').slice(1)), expected[k]!, k);
    let count = 0;
    const walk = (v: unknown): void => {
      if (isTensor(v)) count++;
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(loaded);
    assert.equal(count, keys.length, `${group}: number of tensors`);
  } finally {
    torch.dispose(expected);
  }
}

/** The raw tensors of a safetensors file, decoded by the format layer (no libtorch involved). */
const rawOf = (path: string) => decodeSafetensors(new Uint8Array(readFileSync(path)), path);

// ------------------------------------------------------------------ safetensors round trips

describe('saveSafetensors / loadSafetensors round trip', () => {
  tensorTest('every dtype, bit-exact, with special values', () => {
    const path = join(freshDir(), 'all.safetensors');
    const tensors = torch.tidy(() => {
      const f32 = torch.tensor(new Float32Array([1.5, -0, 1e-45, 3.4e38, Infinity, -Infinity, NaN, 1 / 3]), { shape: [2, 4] });
      return {
        f32,
        f64: torch.tensor(new Float64Array([1 / 3, -1e300, 5e-324, -0, NaN, -Infinity]), { shape: [3, 2] }),
        f16: torch.tensor([0.5, -65504, 6e-8, 1, Infinity, -0, 0.1, NaN]).half(),
        bf16: torch.tensor([1, -3.140625, 1e38, -0, Infinity, 2 ** -130, 0.1, NaN]).bfloat16(),
        i64: torch.tensor(new BigInt64Array([0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n])),
        i32: torch.tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, 7])),
        i16: torch.tensor(new Int16Array([-32768, 32767, 12345])),
        i8: torch.tensor(new Int8Array([-128, 127, 0])),
        u8: torch.tensor(new Uint8Array([0, 255, 17]), { shape: [3, 1] }),
        bool: torch.tensor([true, false, true, true]),
      };
    });
    torch.saveSafetensors(path, tensors);
    const back = torch.loadSafetensors(path);
    assert.deepEqual(Object.keys(back), Object.keys(tensors), 'names, in order');
    for (const [k, t] of Object.entries(tensors)) assertSameBits(back[k], t, k);
    assert.equal(back.i64!.dtype, 'int64');
    assert.deepEqual(Array.from(back.i64!.toArray() as BigInt64Array), [0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n]);
    assert.deepEqual(back.bool!.tolist(), [true, false, true, true]);
    // The file itself holds the float16/bfloat16 bit patterns libtorch had (no float32 detour).
    const raw = rawOf(path).tensors;
    const f16bits = Array.from(new Uint16Array(raw.f16!.data.slice().buffer));
    assert.deepEqual(f16bits.slice(0, 6), [0x3800, 0xfbff, 0x0001, 0x3c00, 0x7c00, 0x8000]);
    const bf16bits = Array.from(new Uint16Array(raw.bf16!.data.slice().buffer));
    assert.deepEqual(bf16bits.slice(0, 6), [0x3f80, 0xc049, 0x7e96, 0x8000, 0x7f80, 0x0008]);
    torch.dispose([tensors, back]);
  });

  tensorTest('0-d and zero-size tensors of every dtype keep their shapes', () => {
    const path = join(freshDir(), 'shapes.safetensors');
    const dtypes: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
    const tensors: Record<string, Tensor> = torch.tidy(() => {
      const out: Record<string, Tensor> = {};
      for (const d of dtypes) {
        out[`${d}_scalar`] = torch.full([], d === 'bool' ? true : 3, { dtype: d });
        out[`${d}_empty`] = torch.zeros([0, 3], { dtype: d });
        out[`${d}_zero_mid`] = torch.zeros([2, 0, 4], { dtype: d });
      }
      return out;
    });
    torch.saveSafetensors(path, tensors);
    const back = torch.loadSafetensors(path);
    for (const [k, t] of Object.entries(tensors)) assertSameBits(back[k], t, k);
    assert.deepEqual([...back.float32_scalar!.shape], []);
    assert.equal(back.float32_scalar!.item(), 3);
    assert.equal(back.int64_scalar!.item(), 3);
    assert.equal(back.bool_scalar!.item(), 1);
    assert.deepEqual([...back.uint8_zero_mid!.shape], [2, 0, 4]);
    torch.dispose([tensors, back]);
  });

  tensorTest('metadata round trips; an empty dict is a valid file', () => {
    const dir = freshDir();
    const path = join(dir, 'meta.safetensors');
    const t = torch.arange(4, { dtype: 'float32' });
    const metadata = { format: 'pt', note: 'héllo "quoted" \n newline', empty: '' };
    torch.saveSafetensors(path, { t }, { metadata });
    assert.deepEqual(torch.loadSafetensorsMetadata(path), metadata);
    const back = torch.loadSafetensors(path);
    assertSameBits(back.t, t, 't');
    torch.saveSafetensors(join(dir, 'empty.safetensors'), {});
    assert.deepEqual(torch.loadSafetensors(join(dir, 'empty.safetensors')), {});
    assert.deepEqual(torch.loadSafetensorsMetadata(join(dir, 'empty.safetensors')), {});
    torch.dispose([t, back]);
  });

  tensorTest('views are written as their own contiguous values; grad flags are not saved', () => {
    const path = join(freshDir(), 'views.safetensors');
    const tensors = torch.tidy(() => {
      const base = torch.arange(24, { dtype: 'float32' }).reshape([4, 6]);
      return {
        t: base.t(),
        step: base.slice(0, 0, null, 2).slice(1, 1, null, 3),
        expanded: torch.tensor([7, 8]).expand([3, 2]),
        channelsLast: torch.arange(24, { dtype: 'float32' }).reshape([1, 2, 3, 4]).contiguous({ memoryFormat: 'channelsLast' }),
        param: torch.ones([2], { requiresGrad: true }),
      };
    });
    torch.saveSafetensors(path, tensors);
    const back = torch.loadSafetensors(path);
    assert.deepEqual(
      nums(back.t!),
      Array.from({ length: 24 }, (_, i) => (i % 4) * 6 + Math.floor(i / 4)),
    );
    assert.deepEqual(back.step!.tolist(), [
      [1, 4],
      [13, 16],
    ]);
    assert.deepEqual(back.expanded!.tolist(), [
      [7, 8],
      [7, 8],
      [7, 8],
    ]);
    assert.deepEqual(
      nums(back.channelsLast!),
      Array.from({ length: 24 }, (_, i) => i),
    );
    assert.equal(back.param!.requiresGrad, false);
    assert.equal(back.t!.isContiguous(), true);
    torch.dispose([tensors, back]);
  });

  tensorTest('the Python-written expected.safetensors survives load → save → load bit-exactly', () => {
    const dir = freshDir();
    const loaded = torch.loadSafetensors(EXPECTED);
    const metadata = torch.loadSafetensorsMetadata(EXPECTED);
    assert.deepEqual(metadata, { format: 'pt', source: 'make_serialization_fixtures.py' });
    const copy = join(dir, 'copy.safetensors');
    torch.saveSafetensors(copy, loaded, { metadata });
    // byte for byte, tensor by tensor, as the format layer reads both files
    const a = rawOf(EXPECTED);
    const b = rawOf(copy);
    assert.deepEqual(b.metadata, a.metadata);
    assert.deepEqual(Object.keys(b.tensors), Object.keys(a.tensors));
    for (const k of Object.keys(a.tensors)) assert.deepStrictEqual(b.tensors[k], a.tensors[k], k);
    const again = torch.loadSafetensors(copy);
    for (const [k, t] of Object.entries(loaded)) assertSameBits(again[k], t, k);
    torch.dispose([loaded, again]);
  });

  tensorTest('tensor names are kept verbatim, "__proto__" included (as an own key)', () => {
    const path = join(freshDir(), 'names.safetensors');
    const t = torch.tidy(() => ({ a: torch.ones([1]), b: torch.zeros([1]), c: torch.full([1], 2) }));
    const tensors: Record<string, Tensor> = {};
    for (const [k, v] of [
      ['layer.0.weight', t.a],
      ['ünïcödé/名前', t.b],
      ['__proto__', t.c],
    ] as const) {
      Object.defineProperty(tensors, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    torch.saveSafetensors(path, tensors);
    assert.deepEqual(Object.keys(rawOf(path).tensors), ['layer.0.weight', 'ünïcödé/名前', '__proto__']);
    const back = torch.loadSafetensors(path);
    assert.deepEqual(Object.keys(back), Object.keys(rawOf(path).tensors));
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    torch.dispose([t, back]);
  });

  tensorTest('loading a file with a "__proto__" tensor keeps it as an own key and frees it with the rest', () => {
    const path = join(freshDir(), 'proto.safetensors');
    const header = Buffer.from(
      '{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
    );
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(path, Buffer.concat([len, header, Buffer.from([7, 9])]));
    const before = torch.liveTensors();
    const back = torch.loadSafetensors(path);
    const proto = Object.getPrototypeOf(back);
    assert.equal(proto, Object.prototype, "the result's prototype is untouched");
    assert.deepEqual(Object.keys(back), ['__proto__', 'a']);
    assert.equal(Object.getOwnPropertyDescriptor(back, '__proto__')?.value.item(), 7);
    torch.dispose(back);
    if (isTensor(proto)) proto.dispose(); // keep the leak check about this test's own assertion
    assert.equal(torch.liveTensors(), before);
  });
});

// ------------------------------------------------------------------ atomic writes

describe('saveSafetensors writes atomically', () => {
  tensorTest('no temporary file is left next to the result; overwriting replaces the content', () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    const a = torch.ones([3]);
    const b = torch.zeros([2, 2]);
    torch.saveSafetensors(path, { w: a });
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    torch.saveSafetensors(path, { w: b, extra: a });
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    const back = torch.loadSafetensors(path);
    assert.deepEqual(Object.keys(back), ['w', 'extra']);
    assertSameBits(back.w, b, 'w');
    torch.dispose([a, b, back]);
  });

  tensorTest('saving into a missing directory throws an Error naming the path and creates nothing', () => {
    const dir = freshDir();
    const missing = join(dir, 'no', 'such', 'dir');
    const path = join(missing, 'model.safetensors');
    const t = torch.ones([2]);
    assertThrows(
      () => torch.saveSafetensors(path, { t }),
      Error,
      new RegExp(path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
      /ENOENT|no such file/,
    );
    assert.equal(existsSync(join(dir, 'no')), false);
    assert.deepEqual(readdirSync(dir), []);
    assertThrows(() => torch.saveSafetensors(path, { t }), Error, /saveSafetensors/);
    t.dispose();
  });

  tensorTest('a failed rename (the path is a directory) removes the temporary file', () => {
    const dir = freshDir();
    const target = join(dir, 'taken');
    mkdirSync(target);
    const t = torch.ones([2]);
    assertThrows(() => torch.saveSafetensors(target, { t }), Error, /taken/);
    assert.deepEqual(readdirSync(dir), ['taken'], 'no temporary sibling left behind');
    assert.ok(statSync(target).isDirectory());
    assert.deepEqual(readdirSync(target), []);
    t.dispose();
  });

  tensorTest('a save refused before writing leaves an existing file untouched', () => {
    const dir = freshDir();
    const path = join(dir, 'keep.safetensors');
    const t = torch.ones([2]);
    torch.saveSafetensors(path, { t });
    const good = readFileSync(path);
    const gone = torch.ones([1]);
    gone.dispose();
    assertThrows(
      () => torch.saveSafetensors(path, { t, bad: 'x' as unknown as Tensor }),
      TypeError,
      /saveSafetensors: tensors\['bad'\] must be a Tensor, got 'x'/,
    );
    assertThrows(
      () => torch.saveSafetensors(path, { t }, { metadata: { n: 3 as unknown as string } }),
      Error,
      /metadata "n" must be a string/,
    );
    assertThrows(() => torch.saveSafetensors(path, { t, gone }), Error, /disposed/);
    assertThrows(() => torch.saveSafetensors(path, { __metadata__: t }), Error, /__metadata__/, /reserved/);
    assertThrows(
      () => torch.saveSafetensors(path, null as unknown as Record<string, Tensor>),
      TypeError,
      /saveSafetensors/,
      /tensors must be an object/,
    );
    assert.deepEqual(readFileSync(path), good);
    assert.deepEqual(readdirSync(dir), ['keep.safetensors']);
    t.dispose();
  });
});

// ------------------------------------------------------------------ .pth

describe('loadPth', () => {
  tensorTest('Conv+BN state dict: zip, legacy and deflate-repacked files give the expected Tensors', () => {
    for (const name of ['convbn_zip.pth', 'convbn_legacy.pth', 'convbn_deflate.pth']) {
      const sd = torch.loadPth(fixture(name)) as Record<string, Tensor>;
      assert.deepEqual(
        Object.keys(sd),
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked'],
        name,
      );
      assert.ok(Object.values(sd).every(isTensor));
      assert.deepEqual([...sd['0.weight']!.shape], [4, 3, 3, 3]);
      assert.equal(sd['1.num_batches_tracked']!.dtype, 'int64');
      assert.deepEqual([...sd['1.num_batches_tracked']!.shape], []);
      assert.equal(sd['1.num_batches_tracked']!.item(), 1);
      assertMatchesExpected('convbn', sd);
      // The tensors are ordinary, usable tensors.
      const y = torch.tidy(() => {
        const x = torch.ones([2, 3, 5, 5]);
        const h = F.conv2d(x, sd['0.weight']!, { bias: sd['0.bias'] });
        return F.batchNorm(h, sd['1.running_mean']!, sd['1.running_var']!, { weight: sd['1.weight'], bias: sd['1.bias'] });
      });
      assert.deepEqual([...y.shape], [2, 4, 3, 3]);
      torch.dispose([sd, y]);
    }
  });

  tensorTest('views of one storage load as independent contiguous tensors', () => {
    for (const name of ['views_zip.pth', 'views_legacy.pth']) {
      const v = torch.loadPth(fixture(name)) as Record<string, Tensor>;
      assertMatchesExpected('views', v);
      assert.deepEqual([...v.t!.shape], [6, 4]);
      assert.deepEqual(v.step!.tolist(), [
        [1, 4],
        [13, 16],
      ]);
      assert.deepEqual(v.expand!.tolist(), [
        [7, 8],
        [7, 8],
        [7, 8],
      ]);
      assert.deepEqual([...v.scalar_view!.shape], []);
      assert.equal(v.scalar_view!.item(), 15);
      assert.equal(v.narrow!.dtype, 'int64');
      // no aliasing: writing into one does not show in the others
      v.base!.add_(100);
      assert.equal(
        torch.tidy(() => v.same!.select(0, 0).select(0, 0).item()),
        0,
      );
      assert.equal(
        torch.tidy(() => v.row!.select(0, 0).item()),
        6,
      );
      assert.equal(torch.sharesStorage(v.base!, v.t!), false);
      torch.dispose(v);
    }
  });

  tensorTest('every dtype, 0-d and zero-size tensors, both formats, bit-exact', () => {
    for (const name of ['dtypes_zip.pth', 'dtypes_legacy.pth']) {
      const d = torch.loadPth(fixture(name)) as Record<string, Tensor>;
      assertMatchesExpected('dtypes', d);
      const dtypes = Object.fromEntries(Object.entries(d).map(([k, t]) => [k, t.dtype]));
      assert.deepEqual(dtypes, {
        f32: 'float32',
        f64: 'float64',
        f16: 'float16',
        bf16: 'bfloat16',
        i64: 'int64',
        i32: 'int32',
        i16: 'int16',
        i8: 'int8',
        u8: 'uint8',
        bool: 'bool',
        scalar: 'float32',
        scalar_i64: 'int64',
        empty: 'float32',
      });
      assert.deepEqual(Array.from(d.i64!.toArray() as BigInt64Array), [0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 53n + 1n]);
      assert.deepEqual(d.bool!.tolist(), [true, false, true]);
      assert.deepEqual([...d.scalar!.shape], []);
      assert.equal(d.scalar!.item(), 3.5);
      assert.equal(d.scalar_i64!.item(), 42);
      assert.deepEqual([...d.empty!.shape], [0, 3]);
      // float16 / bfloat16 bit patterns survive into a safetensors file unchanged
      const path = join(freshDir(), 'dtypes.safetensors');
      torch.saveSafetensors(path, d);
      const raw = rawOf(path).tensors;
      const exp = rawOf(EXPECTED).tensors;
      for (const k of Object.keys(d)) assert.deepStrictEqual(raw[k], exp[`dtypes/${k}`], `${name}: ${k}`);
      torch.dispose(d);
    }
  });

  tensorTest('nested checkpoint: dicts, lists, tuples, numbers, big ints and Tensors (protocols 2 and 4)', () => {
    for (const name of ['checkpoint_zip.pth', 'checkpoint_p4.pth']) {
      const c = torch.loadPth(fixture(name)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(c), [
        'state_dict',
        'epoch',
        'lr',
        'name',
        'big',
        'neg',
        'flags',
        'tup',
        'optimizer',
        'param',
        'tagged',
        'param_state',
      ]);
      assertMatchesExpected('checkpoint', c);
      const { state_dict: sd, optimizer, param, tagged, param_state: ps, ...plain } = c;
      assert.deepEqual(plain, {
        epoch: 3,
        lr: 0.1,
        name: 'x',
        big: 2n ** 60n,
        neg: -70000,
        flags: [true, false, null],
        tup: [1, 'a', 2.5],
      });
      assert.ok(Object.values(sd as object).every(isTensor));
      const opt = optimizer as { state: Record<string, { momentum_buffer: Tensor }>; param_groups: unknown };
      assert.deepEqual(opt.param_groups, [{ params: [0], lr: 0.1 }]);
      assert.deepEqual(opt.state['0']!.momentum_buffer.tolist(), [1, 1]);
      assert.ok(isTensor(param) && isTensor(tagged) && isTensor(ps));
      assert.deepEqual((param as Tensor).tolist(), [
        [1, 1],
        [1, 1],
      ]);
      assert.equal((param as Tensor).requiresGrad, false, 'nn.Parameter loads as a plain tensor');
      assert.deepEqual((tagged as Tensor).tolist(), [1, 2]);
      assert.deepEqual((ps as Tensor).tolist(), [[5]]);
      assert.equal(Object.getPrototypeOf(c), Object.prototype);
      torch.dispose(c);
    }
  });

  tensorTest('malicious pickles are refused, naming the file and the global, and run nothing', () => {
    const marker = '/tmp/pwned';
    const existed = existsSync(marker);
    for (const name of ['malicious_zip.pth', 'malicious_legacy.pth']) {
      const path = fixture(name);
      assertThrows(
        () => torch.loadPth(path),
        Error,
        new RegExp(name.replace('.', '\\.')),
        /refusing to load global "os\.system"/,
        /only PyTorch state-dict types are allowed/,
      );
    }
    if (!existed) assert.equal(existsSync(marker), false, 'the payload never ran');
  });

  tensorTest('big-endian files, non-checkpoints and empty files are refused with the file named', () => {
    assertThrows(() => torch.loadPth(fixture('bigendian_zip.pth')), Error, /bigendian_zip\.pth/, /big-endian/);
    assertThrows(() => torch.loadPth(fixture('bigendian_legacy.pth')), Error, /bigendian_legacy\.pth/, /big-endian/);
    assertThrows(() => torch.loadPth(fixture('deflate.zip')), Error, /deflate\.zip/, /data\.pkl/);
    const dir = freshDir();
    writeFileSync(join(dir, 'empty.pth'), '');
    assertThrows(() => torch.loadPth(join(dir, 'empty.pth')), Error, /empty\.pth/, /empty file/);
    writeFileSync(join(dir, 'text.pth'), 'hello');
    assertThrows(() => torch.loadPth(join(dir, 'text.pth')), Error, /text\.pth/, /not a PyTorch checkpoint/);
    assertThrows(() => torch.loadSafetensors(fixture('convbn_zip.pth')), Error, /convbn_zip\.pth/);
  });
});

// ------------------------------------------------------------------ truncated files

describe('truncated files', () => {
  tensorTest('every cut of a .pth file is an Error naming the file (and leaks nothing)', () => {
    const dir = freshDir();
    for (const name of ['convbn_zip.pth', 'convbn_legacy.pth', 'checkpoint_p4.pth', 'dtypes_zip.pth']) {
      const bytes = readFileSync(fixture(name));
      const cuts = new Set([
        0,
        1,
        2,
        10,
        64,
        100,
        200,
        512,
        bytes.length >> 2,
        bytes.length >> 1,
        bytes.length - 100,
        bytes.length - 22,
        bytes.length - 1,
      ]);
      for (const cut of cuts) {
        if (cut < 0 || cut >= bytes.length) continue;
        const path = join(dir, `cut-${cut}-${name}`);
        writeFileSync(path, bytes.subarray(0, cut));
        assert.throws(
          () => torch.loadPth(path),
          (e: unknown) => {
            assert.ok(e instanceof Error, `${name} cut at ${cut}: ${String(e)}`);
            assert.ok(e.message.includes(path), `${name} cut at ${cut}: "${e.message}" should name ${path}`);
            return true;
          },
        );
      }
    }
  });

  tensorTest('every cut of a safetensors file is an Error naming the file', () => {
    const dir = freshDir();
    const bytes = readFileSync(EXPECTED);
    for (const cut of [0, 4, 7, 8, 20, 200, bytes.length >> 1, bytes.length - 1]) {
      const path = join(dir, `cut-${cut}.safetensors`);
      writeFileSync(path, bytes.subarray(0, cut));
      assertThrows(() => torch.loadSafetensors(path), Error, new RegExp(`cut-${cut}\\.safetensors`));
      assertThrows(() => torch.loadSafetensorsMetadata(path), Error, new RegExp(`cut-${cut}\\.safetensors`));
    }
  });

  tensorTest('a missing file is an Error naming the op and the path', () => {
    assertThrows(() => torch.loadPth(join(tmp, 'nope.pth')), Error, /loadPth/, /nope\.pth/);
    assertThrows(() => torch.loadSafetensors(join(tmp, 'nope.safetensors')), Error, /loadSafetensors/, /nope\.safetensors/);
  });
});
