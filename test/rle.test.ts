// segkit/rle against the Tianchi baseline's numpy rle_encode (fixtures from
// scripts/fixtures/make_decode_fixtures.py) and a hand-computed example that pins the orientation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decode, encode } from '../src/rle.js';
import { FIXTURES, assertThrows } from './helpers.js';

interface RleCase {
  name: string;
  shape: [number, number];
  mask: number[];
  rle: string;
}
const cases: RleCase[] = JSON.parse(readFileSync(join(FIXTURES, 'decode', 'expected.json'), 'utf8')).rle;

/** numpy's algorithm, step by step: flatten(order='F'), pad with 0, indices where neighbours differ. */
function numpyStyle(mask: ArrayLike<number>, [h, w]: readonly [number, number]): string {
  const pixels = [0];
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) pixels.push(mask[y * w + x] !== 0 ? 1 : 0);
  pixels.push(0);
  const runs: number[] = [];
  for (let i = 0; i + 1 < pixels.length; i++) if (pixels[i + 1] !== pixels[i]) runs.push(i + 1);
  for (let i = 1; i < runs.length; i += 2) runs[i]! -= runs[i - 1]!;
  return runs.join(' ');
}

test('a 3x4 mask by hand: starts are 1-based and count down each column first', () => {
  // prettier-ignore
  const mask = [0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1];
  // Column-major pixel numbers (1-based): column 0 is 1..3, column 1 is 4..6, column 2 7..9,
  // column 3 10..12. Foreground: 3 (row 2 of column 0), 4 5 6 (all of column 1), 7 (row 0 of
  // column 2), 12 (row 2 of column 3): runs 3..7 and 12..12.
  assert.equal(encode(mask, [3, 4]), '3 5 12 1');
  assert.equal(cases[0]!.name, 'hand 3x4');
  assert.deepEqual(cases[0]!.mask, mask);
  assert.equal(cases[0]!.rle, '3 5 12 1', "the baseline's rle_encode agrees");
  assert.deepEqual([...decode('3 5 12 1', [3, 4])], mask);
});

test('the transposition is visible on a 2x3 mask: pixel (row 0, column 1) is run start 3', () => {
  const mask = [0, 1, 0, 0, 0, 0];
  assert.equal(encode(mask, [2, 3]), '3 1');
  assert.deepEqual([...decode('3 1', [2, 3])], mask);
  assert.deepEqual([...decode('2 1', [2, 3])], [0, 0, 0, 1, 0, 0]);
});

test("encode equals numpy's rle_encode and decode inverts it on every fixture", () => {
  assert.ok(cases.length >= 6);
  for (const c of cases) {
    assert.equal(encode(c.mask, c.shape), c.rle, c.name);
    assert.deepEqual([...decode(c.rle, c.shape)], c.mask, c.name);
  }
});

test('empty masks: an empty or blank string, and encode of zeros gives an empty string', () => {
  assert.deepEqual([...decode('', [2, 2])], [0, 0, 0, 0]);
  assert.deepEqual([...decode('  \t', [2, 2])], [0, 0, 0, 0]);
  assert.equal(encode(new Uint8Array(6), [2, 3]), '');
});

test('encode treats any nonzero as foreground and accepts typed arrays; decode tolerates extra spaces', () => {
  assert.equal(encode(new Float32Array([0, 2, -1, 0.5]), [2, 2]), '2 3');
  assert.equal(encode([255, 255, 255, 255], [2, 2]), '1 4');
  assert.deepEqual([...decode(' 2  3 ', [2, 2])], [0, 1, 1, 1]);
  assert.deepEqual([...decode('1 2 3 2', [2, 2])], [1, 1, 1, 1], 'touching runs are fine');
});

test('decode writes into out, clearing it first', () => {
  const out = new Uint8Array(4).fill(7);
  const r = decode('4 1', [2, 2], out);
  assert.equal(r, out);
  assert.deepEqual([...out], [0, 0, 0, 1]);
  assertThrows(
    () => decode('1 1', [2, 2], new Uint8Array(5)),
    RangeError,
    /rle\.decode: out\.length must be 4 \(height 2 x width 2\), got 5/,
  );
  assertThrows(() => decode('1 1', [2, 2], [0, 0, 0, 0] as unknown as Uint8Array), TypeError, /out must be a Uint8Array of 4/);
});

test('decode errors name the run and the value', () => {
  const s: [number, number] = [3, 4];
  assertThrows(() => decode('1 2 5', s), RangeError, /even number of fields\), got 3 fields: run 1 \(start 5\) has no length/);
  assertThrows(() => decode('1 2.5', s), TypeError, /run 0 length must be an integer written in digits, got '2\.5'/);
  assertThrows(() => decode('1 2 x7 1', s), TypeError, /run 1 start must be an integer written in digits, got 'x7'/);
  assertThrows(() => decode('1e1 1', s), TypeError, /run 0 start .* got '1e1'/);
  assertThrows(() => decode('0 2', s), RangeError, /run 0 start must be an integer from 1 to 12 \(1-based, in a 3x4 mask\), got 0/);
  assertThrows(() => decode('-3 2', s), RangeError, /run 0 start must be .*, got -3/);
  assertThrows(() => decode('13 1', s), RangeError, /run 0 start must be an integer from 1 to 12/);
  assertThrows(
    () => decode('1 1 11 3', s),
    RangeError,
    /run 1 length must be <= 2 \(run 1 starts at 11 in a 3x4 mask of 12 pixels\), got 3/,
  );
  assertThrows(() => decode('2 0', s), RangeError, /run 0 length must be an integer >= 1, got 0/);
  assertThrows(
    () => decode('1 5 3 2', s),
    RangeError,
    /run 1 start must be > 5 \(runs must be sorted and must not overlap: run 0 ends at pixel 5\), got 3/,
  );
  assertThrows(() => decode('7 2 1 2', s), RangeError, /run 1 start must be > 8 .* got 1/);
  assertThrows(() => decode(undefined as unknown as string, s), TypeError, /rle must be a string/);
});

test('shape and mask checks', () => {
  assertThrows(() => encode([1, 0, 1], [2, 2]), RangeError, /rle\.encode: mask\.length must be 4 \(height 2 x width 2\), got 3/);
  assertThrows(() => encode(null as unknown as number[], [2, 2]), TypeError, /mask must be an array/);
  assertThrows(
    () => decode('', [2, 0] as [number, number]),
    RangeError,
    /rle\.decode: shape must be an array of 2 positive integers \(\[height, width\]\)/,
  );
  assertThrows(() => decode('', [2] as unknown as [number, number]), RangeError, /shape must be/);
  assertThrows(() => encode([], 'a' as unknown as [number, number]), TypeError, /rle\.encode: shape must be/);
});

test('property: decode(encode(m)) is m != 0, encode matches the numpy algorithm, encode(decode(r)) is r', () => {
  const dims = fc.tuple(fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 17 }));
  const bits = ([h, w]: [number, number]) => fc.array(fc.integer({ min: 0, max: 3 }), { minLength: h * w, maxLength: h * w });
  const maskArb = dims.chain((shape) => fc.record({ shape: fc.constant(shape), mask: bits(shape) }));
  fc.assert(
    fc.property(maskArb, ({ shape, mask }) => {
      const rle = encode(mask, shape);
      assert.equal(rle, numpyStyle(mask, shape));
      assert.deepEqual(
        [...decode(rle, shape)],
        mask.map((v) => (v !== 0 ? 1 : 0)),
      );
      assert.equal(encode(decode(rle, shape), shape), rle);
    }),
    { numRuns: 300 },
  );
});

test('a 512x512 mask round-trips (the Tianchi tile size)', () => {
  const h = 512;
  const mask = new Uint8Array(h * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < h; x++) mask[y * h + x] = (x - 200) ** 2 + (y - 300) ** 2 < 90 ** 2 || (x > 400 && y < 50) ? 1 : 0;
  const rle = encode(mask, [h, h]);
  assert.equal(rle, numpyStyle(mask, [h, h]));
  assert.deepEqual(decode(rle, [h, h]), mask);
});
