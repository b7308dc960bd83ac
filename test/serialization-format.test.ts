// Format layer for tensor files: safetensors, ZIP, restricted pickle, torch.save (.pth).
// Fixtures come from scripts/fixtures/make_serialization_fixtures.py (torch 1.13); every tensor
// they hold is also in expected.safetensors, written by that script's own safetensors writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DType, type RawTensor, DTYPES, itemSize } from '../src/torch/serialization/raw.js';
import { decodeSafetensors, encodeSafetensors, encodeSafetensorsChunks } from '../src/torch/serialization/safetensors-format.js';
import { readZip } from '../src/torch/serialization/zip.js';
import { unpickle } from '../src/torch/serialization/pickle.js';
import { decodePth } from '../src/torch/serialization/pth-format.js';

const dir = fileURLToPath(new URL('./fixtures/serialization/', import.meta.url));
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(dir + name));
const expected = decodeSafetensors(load('expected.safetensors'), 'expected.safetensors').tensors;

const cat = (...parts: (Uint8Array | string)[]): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))));
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
};
const f32 = (t: RawTensor) => Array.from(new Float32Array(t.data.slice().buffer));

/** Asserts `fn` throws an Error whose message contains every fragment (the file name first). */
function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should contain "${f}"`);
    return true;
  });
}

function isRaw(v: unknown): v is RawTensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'data' in v && (v as RawTensor).data instanceof Uint8Array;
}

/** Collects tensors of a decoded tree as "prefix/key/..." like the fixture script's flatten(). */
function flatten(prefix: string, v: unknown, out: Record<string, RawTensor> = {}): Record<string, RawTensor> {
  if (isRaw(v)) out[prefix] = v;
  else if (Array.isArray(v)) v.forEach((x, i) => flatten(`${prefix}/${i}`, x, out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) flatten(`${prefix}/${k}`, x, out);
  return out;
}

function assertMatchesExpected(group: string, decoded: unknown): void {
  const actual = flatten(group, decoded);
  const want = Object.keys(expected).filter((k) => k.startsWith(`${group}/`));
  assert.deepEqual(Object.keys(actual).sort(), want.sort());
  for (const k of want) assert.deepStrictEqual(actual[k], expected[k], k);
}

// ---------------------------------------------------------------- safetensors

/** A safetensors file with the given header object (or raw header text) and data buffer. */
function craftSt(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  return cat(u64(BigInt(json.length)), json, data);
}

test('safetensors: reads the file written by the Python fixture script', () => {
  const { tensors, metadata } = decodeSafetensors(load('expected.safetensors'), 'expected.safetensors');
  assert.deepEqual(metadata, { format: 'pt', source: 'make_serialization_fixtures.py' });
  assert.deepEqual(tensors['views/base'].shape, [4, 6]);
  assert.deepEqual(
    f32(tensors['views/base']),
    Array.from({ length: 24 }, (_, i) => i),
  );
  const i64 = tensors['dtypes/i64'];
  assert.deepEqual(Array.from(new BigInt64Array(i64.data.slice().buffer)), [0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 53n + 1n]);
  assert.deepEqual(tensors['dtypes/scalar'], { dtype: 'float32', shape: [], data: new Uint8Array(new Float32Array([3.5]).buffer) });
  assert.deepEqual(tensors['dtypes/empty'], { dtype: 'float32', shape: [0, 3], data: new Uint8Array(0) });
  assert.deepEqual(Array.from(tensors['dtypes/bool'].data), [1, 0, 1]);
  assert.equal(tensors['dtypes/bf16'].data.length, 6);
});

test('safetensors: encode → decode round trip for every dtype, 0-d and zero-size', () => {
  const tensors: Record<string, RawTensor> = {};
  DTYPES.forEach((dtype: DType, i) => {
    const shapes = [[2, 3], [], [0, 4]];
    shapes.forEach((shape, j) => {
      const n = shape.reduce((a, b) => a * b, 1) * itemSize(dtype);
      tensors[`${dtype}_${j}`] = {
        dtype,
        shape,
        data: Uint8Array.from({ length: n }, (_, k) => (k * 31 + i) & (dtype === 'bool' ? 1 : 255)),
      };
    });
  });
  // A file-controlled "__proto__" name must stay an own key, never become a prototype.
  Object.defineProperty(tensors, '__proto__', { value: { dtype: 'uint8', shape: [1], data: new Uint8Array([9]) }, enumerable: true });
  const bytes = encodeSafetensors(tensors, { note: 'round trip' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLen % 8, 0, 'header padded to a multiple of 8');
  assert.deepEqual(cat(...encodeSafetensorsChunks(tensors, { note: 'round trip' })), bytes);
  const back = decodeSafetensors(bytes, 'rt.safetensors');
  assert.deepEqual(back.metadata, { note: 'round trip' });
  assert.deepEqual(Object.keys(back.tensors), Object.keys(tensors));
  for (const [k, t] of Object.entries(tensors)) assert.deepStrictEqual(back.tensors[k], t, k);
  assert.deepEqual(decodeSafetensors(encodeSafetensors({}), 'e').tensors, {});
});

test('safetensors: encoder rejects inconsistent tensors', () => {
  throwsWith(
    () => encodeSafetensors({ w: { dtype: 'float32', shape: [2, 2], data: new Uint8Array(12) } }),
    'tensor "w"',
    'needs 16 bytes',
    'got 12 bytes',
  );
  throwsWith(
    () => encodeSafetensors({ w: { dtype: 'complex64' as DType, shape: [1], data: new Uint8Array(8) } }),
    "unknown dtype 'complex64'",
  );
  throwsWith(() => encodeSafetensors({ __metadata__: { dtype: 'uint8', shape: [], data: new Uint8Array(1) } }), 'reserved');
  throwsWith(() => encodeSafetensors({}, { n: 3 as unknown as string }), 'metadata "n" must be a string');
});

test('safetensors: rejects truncated files and corrupt header lengths before allocating', () => {
  const good = load('expected.safetensors');
  for (const cut of [0, 4, 7, 8, 20, 200, good.length - 1]) {
    assert.throws(() => decodeSafetensors(good.subarray(0, cut), 'cut.safetensors'), /cut\.safetensors: /, `cut at ${cut}`);
  }
  throwsWith(
    () => decodeSafetensors(cat(u64(2n ** 62n), '{}'), 'big.safetensors'),
    'big.safetensors',
    'header length is 4611686018427387904',
    'at most 100000000',
  );
  throwsWith(
    () => decodeSafetensors(cat(u64(1000n), '{}'), 'short.safetensors'),
    'short.safetensors',
    'header length is 1000 bytes but only 2 bytes follow',
  );
  throwsWith(() => decodeSafetensors(craftSt('{"a":'), 'j.safetensors'), 'j.safetensors', 'not valid UTF-8 JSON');
  throwsWith(() => decodeSafetensors(craftSt([1, 2]), 'arr.safetensors'), 'header must be a JSON object, got [1, 2]');
});

test('safetensors: validates dtypes, shapes, offsets and metadata', () => {
  const f = 'model.safetensors';
  const w = (info: object) => ({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16], ...info } });
  throwsWith(
    () => decodeSafetensors(craftSt(w({ data_offsets: [0, 12] }), new Uint8Array(12)), f),
    'model.safetensors: tensor "w" has data_offsets [0, 12] (12 bytes) but F32 [2, 2] needs 16 bytes',
  );
  throwsWith(() => decodeSafetensors(craftSt(w({}), new Uint8Array(8)), f), 'data_offsets [0, 16] but the data buffer is [0, 8]');
  throwsWith(() => decodeSafetensors(craftSt(w({ data_offsets: [16, 0] }), new Uint8Array(16)), f), 'data_offsets [16, 0]');
  throwsWith(() => decodeSafetensors(craftSt(w({ dtype: 'C64' }), new Uint8Array(16)), f), "unsupported dtype 'C64'", 'F32');
  throwsWith(() => decodeSafetensors(craftSt(w({ shape: [2, -2] }), new Uint8Array(16)), f), 'shape [2, -2]');
  throwsWith(() => decodeSafetensors(craftSt(w({ data_offsets: [0] }), new Uint8Array(16)), f), 'an array of 2 non-negative integers');
  throwsWith(
    () => decodeSafetensors(craftSt({ ...w({}), __metadata__: { a: 1 } }, new Uint8Array(16)), f),
    'metadata "a" must be a string, got 1',
  );
  throwsWith(() => decodeSafetensors(craftSt({ __metadata__: [] }), f), '"__metadata__" must be an object');
  const two = { a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] } };
  throwsWith(() => decodeSafetensors(craftSt(two, new Uint8Array(6)), f), 'tensor "b" starts at byte 2', 'expected 4', 'overlaps');
  const gap = { a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [4, 6] } };
  throwsWith(() => decodeSafetensors(craftSt(gap, new Uint8Array(6)), f), 'leaves a gap');
  throwsWith(() => decodeSafetensors(craftSt(w({}), new Uint8Array(20)), f), 'cover 16 bytes', 'has 20 bytes');
  // Zero-size tensors may share an offset.
  const zeros = { a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, b: { dtype: 'I64', shape: [0, 5], data_offsets: [0, 0] } };
  assert.deepEqual(Object.keys(decodeSafetensors(craftSt(zeros), f).tensors), ['a', 'b']);
});

// ---------------------------------------------------------------- zip

test('zip: stored, deflate and ZIP64 entries', () => {
  const zip = readZip(load('deflate.zip'), 'deflate.zip');
  assert.deepEqual(
    zip.entries.map((e) => [e.name, e.method]),
    [
      ['dir/hello.txt', 8],
      ['raw.bin', 0],
    ],
  );
  assert.equal(Buffer.from(zip.get('dir/hello.txt')!.data()).toString(), 'hello zip '.repeat(50));
  assert.deepEqual(
    Array.from(zip.get('raw.bin')!.data()),
    Array.from({ length: 256 }, (_, i) => i),
  );
  const z64 = readZip(load('zip64.zip'), 'zip64.zip');
  assert.equal(Buffer.from(z64.get('big/entry.bin')!.data()).toString(), 'zip64 payload '.repeat(10));
});

test('zip: truncated and corrupt archives give errors naming the file', () => {
  const bytes = load('deflate.zip');
  throwsWith(() => readZip(bytes.subarray(0, bytes.length - 10), 'cut.zip'), 'cut.zip', 'no ZIP end-of-central-directory');
  const corrupt = bytes.slice();
  corrupt[Buffer.from(bytes).indexOf(Buffer.from([0xfd, 0xfe, 0xff]))] ^= 0xff; // inside raw.bin's data
  throwsWith(() => readZip(corrupt, 'crc.zip').get('raw.bin')!.data(), 'crc.zip', 'CRC-32');
  const z64 = load('zip64.zip').slice();
  z64[z64.length - 22 - 20 + 8] = 0xee; // ZIP64 locator points elsewhere
  throwsWith(() => readZip(z64, 'z64.zip'), 'z64.zip', 'ZIP64');
});

// ---------------------------------------------------------------- pickle

test('pickle: refuses globals outside the allowlist, whatever the opcode', () => {
  const msg = 'refusing to load global "os.system": only PyTorch state-dict types are allowed';
  throwsWith(() => decodePth(load('malicious_zip.pth'), 'malicious_zip.pth'), 'malicious_zip.pth', msg);
  throwsWith(() => decodePth(load('malicious_legacy.pth'), 'malicious_legacy.pth'), 'malicious_legacy.pth', msg);
  const stackGlobal = cat('\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x01x\x85R.');
  throwsWith(() => unpickle(stackGlobal, { fileName: 'p.pkl' }), 'p.pkl', 'refusing to load global "builtins.eval"');
  const subclass = cat('\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n(ctorch._utils\n_rebuild_tensor_v2\nctorch\nFloatStorage\n)NtR.');
  throwsWith(() => unpickle(subclass, { fileName: 'p.pkl' }), '_rebuild_from_type_v2 with type global torch.FloatStorage is not supported');
  throwsWith(() => unpickle(cat('\x80\x02ctorch\nTensor\n)R.'), { fileName: 'p.pkl' }), 'global torch.Tensor cannot be called');
  throwsWith(() => unpickle(cat('\x80\x02}K\x02\x85K\x03s.'), { fileName: 'p.pkl' }), 'dict key of type list/tuple');
  throwsWith(() => unpickle(cat('\x80\x02]}b.'), { fileName: 'p.pkl' }), 'p.pkl', 'cannot apply state');
  throwsWith(() => unpickle(cat('\x80\x02i'), { fileName: 'p.pkl' }), "unsupported opcode 0x69 ('i')");
});

test('pickle: values, big ints, memo and dict keys', () => {
  // {1: [None, True, -3, 2**64, -(2**70)], '__proto__': 1.5, 'b': b'\x01\x02', 'l': <memo 1>}
  const p = cat(
    '\x80\x02}q\x00(K\x01]q\x01(N\x88J\xfd\xff\xff\xff\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01',
    '\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xc0eX\x09\x00\x00\x00__proto__G?\xf8\x00\x00\x00\x00\x00\x00',
    'U\x01bC\x02\x01\x02U\x01lh\x01u.',
  );
  const { value, end } = unpickle(p, { fileName: 'v.pkl' });
  assert.equal(end, p.length);
  const v = value as Record<string, unknown>;
  assert.deepEqual(v['1'], [null, true, -3, 2n ** 64n, -(2n ** 70n)]);
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, 1.5);
  assert.deepStrictEqual(v.b, new Uint8Array([1, 2]));
  assert.equal(v.l, v['1'], 'memoized objects keep their identity');
});

// ---------------------------------------------------------------- .pth

test('pth: Conv+BN state dict, zip / legacy / deflate-repacked, equal to the expected tensors', () => {
  const zip = decodePth(load('convbn_zip.pth'), 'convbn_zip.pth') as Record<string, RawTensor>;
  assert.deepEqual(Object.keys(zip), [
    '0.weight',
    '0.bias',
    '1.weight',
    '1.bias',
    '1.running_mean',
    '1.running_var',
    '1.num_batches_tracked',
  ]);
  assert.deepEqual(zip['0.weight'].shape, [4, 3, 3, 3]);
  assert.deepEqual(zip['1.num_batches_tracked'], { dtype: 'int64', shape: [], data: new Uint8Array(u64(1n)) });
  assertMatchesExpected('convbn', zip);
  assert.deepStrictEqual(decodePth(load('convbn_legacy.pth'), 'convbn_legacy.pth'), zip);
  assert.deepStrictEqual(decodePth(load('convbn_deflate.pth'), 'convbn_deflate.pth'), zip);
});

test('pth: views, shared storage, expanded tensors become contiguous copies', () => {
  for (const name of ['views_zip.pth', 'views_legacy.pth']) {
    const v = decodePth(load(name), name) as Record<string, RawTensor>;
    assertMatchesExpected('views', v);
    assert.deepEqual(v.t.shape, [6, 4]);
    assert.deepEqual(
      f32(v.t),
      Array.from({ length: 24 }, (_, i) => (i % 4) * 6 + Math.floor(i / 4)),
    );
    assert.deepEqual(f32(v.step), [1, 4, 13, 16]);
    assert.deepEqual(f32(v.expand), [7, 8, 7, 8, 7, 8]);
    assert.deepEqual(v.scalar_view, { dtype: 'float32', shape: [], data: new Uint8Array(new Float32Array([15]).buffer) });
    assert.notEqual(v.row.data.buffer, v.base.data.buffer, 'no aliasing between tensors');
  }
});

test('pth: every dtype, 0-d and zero-size tensors, both formats', () => {
  for (const name of ['dtypes_zip.pth', 'dtypes_legacy.pth']) assertMatchesExpected('dtypes', decodePth(load(name), name));
});

test('pth: nested checkpoint with parameters, subclass state and plain values (protocols 2 and 4)', () => {
  for (const name of ['checkpoint_zip.pth', 'checkpoint_p4.pth']) {
    const c = decodePth(load(name), name) as Record<string, unknown>;
    assertMatchesExpected('checkpoint', c);
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
    const { state_dict: _sd, optimizer, param: _p, tagged: _t, param_state: _ps, ...plain } = c;
    assert.deepEqual(plain, { epoch: 3, lr: 0.1, name: 'x', big: 2n ** 60n, neg: -70000, flags: [true, false, null], tup: [1, 'a', 2.5] });
    assert.deepEqual((optimizer as { param_groups: unknown }).param_groups, [{ params: [0], lr: 0.1 }]);
  }
});

test('pth: big-endian files and non-checkpoints are refused clearly', () => {
  throwsWith(() => decodePth(load('bigendian_zip.pth'), 'be.pth'), 'be.pth', 'big-endian', 'only little-endian');
  throwsWith(() => decodePth(load('bigendian_legacy.pth'), 'bel.pth'), 'bel.pth', 'big-endian');
  throwsWith(() => decodePth(cat('hello'), 'x.pth'), 'x.pth', 'not a PyTorch checkpoint', '68 65 6c 6c');
  throwsWith(() => decodePth(new Uint8Array(0), 'e.pth'), 'e.pth', 'an empty file');
  throwsWith(() => decodePth(load('deflate.zip'), 'd.pth'), 'd.pth', 'no "<archive>/data.pkl"');
  throwsWith(() => decodePth(cat('\x80\x02K\x01.'), 'm.pth'), 'm.pth', 'legacy magic number');
});

test('pth: every truncation of a file is a clean Error naming the file', () => {
  for (const name of ['convbn_legacy.pth', 'dtypes_legacy.pth', 'convbn_zip.pth', 'checkpoint_p4.pth']) {
    const bytes = load(name);
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => decodePth(bytes.subarray(0, cut), name),
        (e: unknown) => e instanceof Error && e.message.startsWith(`${name}: `),
        `cut at ${cut}`,
      );
    }
  }
});

test('pth: random byte corruption never escapes as anything but a named Error', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (const name of ['convbn_legacy.pth', 'views_legacy.pth', 'checkpoint_zip.pth']) {
    const good = load(name);
    for (let i = 0; i < 1500; i++) {
      const bad = good.slice();
      for (let k = 0; k <= rand(3); k++) bad[rand(bad.length)] = rand(256);
      try {
        decodePth(bad, name);
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith(`${name}: `), `iteration ${i}: ${String(e)}`);
      }
    }
  }
});

// Hand-assembled legacy files: the first three pickles of a real one, then our own object.
const legacyHeader = (() => {
  const bytes = load('convbn_legacy.pth');
  let end = 0;
  for (let i = 0; i < 3; i++) end = unpickle(bytes, { fileName: 'h', start: end }).end;
  return bytes.subarray(0, end);
})();
const U = (s: string) => cat('X', u32(Buffer.byteLength(s)), Buffer.from(s));
const I = (n: number) => cat('J', Buffer.from(new Int32Array([n]).buffer));
const T = (...xs: Uint8Array[]) => cat('(', ...xs, 't');

function legacyTensor(o: {
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
  view?: [string, number, number];
  data?: number[];
}): Uint8Array {
  const view = o.view ? T(U(o.view[0]), I(o.view[1]), I(o.view[2])) : cat('N');
  const pid = cat('(', U('storage'), 'ctorch\nFloatStorage\n', U('k'), U('cpu'), I(o.numel), view, 'tQ');
  const obj = cat(
    '\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(',
    pid,
    I(o.offset),
    T(...o.size.map(I)),
    T(...o.stride.map(I)),
    '\x89ccollections\nOrderedDict\n)RtR.',
  );
  const storage = o.data === undefined ? [] : [u64(BigInt(o.data.length)), new Uint8Array(new Float32Array(o.data).buffer)];
  return cat(legacyHeader, obj, '\x80\x02]', o.data === undefined ? '' : U('k'), 'a'.repeat(o.data === undefined ? 0 : 1), '.', ...storage);
}

test('pth: legacy storage views, bounds and sizes are checked', () => {
  const data = [0, 1, 2, 3, 4, 5];
  const ok = decodePth(legacyTensor({ numel: 6, offset: 1, size: [2], stride: [1], view: ['v', 2, 3], data }), 'v.pth') as RawTensor;
  assert.deepEqual([ok.shape, f32(ok)], [[2], [3, 4]]);
  throwsWith(
    () => decodePth(legacyTensor({ numel: 6, offset: 0, size: [4], stride: [2], data }), 'b.pth'),
    'b.pth',
    'reaches element 6 but the storage has 6 elements',
  );
  throwsWith(
    () => decodePth(legacyTensor({ numel: 6, offset: 0, size: [3], stride: [1], view: ['v', 4, 3], data }), 'w.pth'),
    'w.pth',
    'does not fit in storage "k" of 6 elements',
  );
  throwsWith(
    () => decodePth(legacyTensor({ numel: 6, offset: 0, size: [1 << 20, 1 << 10], stride: [0, 0], data }), 'x.pth'),
    'x.pth',
    'expanding 6 stored elements to 1073741824',
  );
  throwsWith(
    () => decodePth(legacyTensor({ numel: 7, offset: 0, size: [1], stride: [1], data }), 'n.pth'),
    'n.pth',
    'storage "k" should hold 7 float32 elements, the file says 6',
  );
  throwsWith(
    () => decodePth(legacyTensor({ numel: 6, offset: 0, size: [1], stride: [1] }), 'm.pth'),
    'm.pth',
    'storage "k" is referenced but its data is missing',
  );
  throwsWith(
    () => decodePth(legacyTensor({ numel: 6, offset: 0, size: [2], stride: [1, 1], data }), 's.pth'),
    's.pth',
    '2 strides for 1 dimensions',
  );
});
