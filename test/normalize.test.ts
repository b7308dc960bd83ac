// Scaling, normalisation and band statistics: hand-computed cases, numpy's statistics of the real
// tiles and of the SpaceNet GeoTIFF (scripts/fixtures/make_decode_fixtures.py), and the float
// histogram against an exact sort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BandStats, stretchFromStats } from '../src/data/band-stats.js';
import { type DecodedImage, decodeImage } from '../src/data/decode.js';
import { checkScaling, defaultScaling, encoderNormalization, normalizeInPlace, scaleToFloat } from '../src/data/normalize.js';
import { listEncoders, registerEncoder } from '../src/index.js';
import { FIXTURES, assertThrows } from './helpers.js';

const ROOT = join(FIXTURES, '..', '..');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'decode', 'expected.json'), 'utf8'));
const f32 = Math.fround;

function image(data: DecodedImage['data'], channels: number, height: number, width: number, valid: Uint8Array | null = null): DecodedImage {
  const bitDepth = data instanceof Uint8Array ? 8 : data instanceof Uint16Array ? 16 : 32;
  return { data, channels, height, width, bitDepth, valid, format: 'png' };
}

function close(actual: number[], want: number[], rel: number, what: string): void {
  assert.equal(actual.length, want.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - want[i]!) <= rel * Math.max(1, Math.abs(want[i]!)), `${what}[${i}]: ${a} vs ${want[i]}`));
}

test('defaultScaling: 8-bit divides by 255; 16-bit and float need statistics', () => {
  assert.deepEqual(defaultScaling(8), { kind: 'divide', by: 255 });
  assertThrows(() => defaultScaling(16), Error, /defaultScaling: 16-bit images need band statistics .*run `segkit data stats`.*pass scale/);
  assertThrows(() => defaultScaling(32), Error, /float images need band statistics/);
  assertThrows(() => defaultScaling(12), RangeError, /defaultScaling: bitDepth must be one of 8, 16, 32, got 12/);
});

test('scaleToFloat: divide and stretch by hand, clipped to [0, 1], invalid pixels and NaN to 0', () => {
  const rgb = image(new Uint8Array([0, 51, 255, 102, 10, 20, 30, 40]), 2, 2, 2, new Uint8Array([1, 1, 1, 0]));
  assert.deepEqual(
    [...scaleToFloat(rgb, { kind: 'divide', by: 255 })],
    [0, f32(0.2), 1, 0, f32(10 / 255), f32(20 / 255), f32(30 / 255), 0],
  );
  const u16 = image(new Uint16Array([50, 100, 200, 300, 400, 1000]), 1, 2, 3);
  assert.deepEqual([...scaleToFloat(u16, { kind: 'stretch', low: [100], high: [300] })], [0, 0, 0.5, 1, 1, 1]);
  const fl = image(new Float32Array([-1, Number.NaN, 0.25, 3]), 2, 1, 2);
  const out = new Float32Array(4).fill(9);
  const r = scaleToFloat(fl, { kind: 'stretch', low: [-1, 0], high: [1, 4] }, out);
  assert.equal(r, out);
  assert.deepEqual([...out], [0, 0, f32(0.0625), 0.75]);
  assert.deepEqual([...scaleToFloat(u16, { kind: 'divide', by: 500 })], [0.1, 0.2, 0.4, 0.6, 0.8, 1].map(f32));
});

test('scaleToFloat and checkScaling reject bad scalings and buffers', () => {
  const img = image(new Uint8Array(6), 3, 1, 2);
  assertThrows(
    () => scaleToFloat(img, { kind: 'stretch', low: [0, 0], high: [1, 1] }),
    RangeError,
    /scaleToFloat: scaling\.low must be an array of 3 numbers \(one per band\), got \[0, 0\]/,
  );
  assertThrows(
    () => scaleToFloat(img, { kind: 'stretch', low: [0, 5, 0], high: [1, 5, 1] }),
    RangeError,
    /scaling\.high\[1\] must be > scaling\.low\[1\] = 5, got 5/,
  );
  assertThrows(() => scaleToFloat(img, { kind: 'divide', by: 0 }), RangeError, /scaling\.by must be a positive number, got 0/);
  assertThrows(() => scaleToFloat(img, { kind: 'log' } as never), TypeError, /scaling\.kind must be 'divide' or 'stretch', got 'log'/);
  assertThrows(() => scaleToFloat(img, { kind: 'divide', by: 255, low: [0] } as never), TypeError, /unknown key 'low' for kind 'divide'/);
  assertThrows(
    () => scaleToFloat(img, { kind: 'divide', by: 255 }, new Float32Array(5)),
    RangeError,
    /out\.length must be 6 \(3x1x2\), got 5/,
  );
  assertThrows(
    () => scaleToFloat({ ...img, valid: new Uint8Array(3) }, { kind: 'divide', by: 255 }),
    RangeError,
    /image\.valid\.length must be height x width = 2, got 3/,
  );
  assert.deepEqual(checkScaling('ckpt', { kind: 'stretch', low: [1], high: [2] }), { kind: 'stretch', low: [1], high: [2] });
  assertThrows(() => checkScaling('ckpt', null), TypeError, /^ckpt: scaling must be/);
});

test("encoderNormalization: the registry's ImageNet mean/std (smp's get_preprocessing_params)", () => {
  assert.deepEqual(encoderNormalization('resnet34'), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  assert.deepEqual(encoderNormalization('efficientnet-b0', 'imagenet'), { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  assert.deepEqual(encoderNormalization('xception'), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, 'Cadene xception');
  const a = encoderNormalization('vgg16');
  a.mean[0] = 0;
  assert.equal(encoderNormalization('vgg16').mean[0], 0.485, 'a copy, not the registry');
  assertThrows(() => encoderNormalization('resnet35'), TypeError, /encoderNormalization: name must be one of .*'resnet34'.*got 'resnet35'/);
  assertThrows(() => encoderNormalization('resnet34', 'ssl'), TypeError, /encoderNormalization: weights must be 'imagenet', got 'ssl'/);
  if (!listEncoders().includes('test-no-weights'))
    registerEncoder({ name: 'test-no-weights', source: 'test', dilations: [], create: () => assert.fail('not built') });
  assertThrows(
    () => encoderNormalization('test-no-weights'),
    Error,
    /encoder 'test-no-weights' has no 'imagenet' weights, so no pretrained mean\/std/,
  );
});

test('normalizeInPlace: (x - mean) / std per plane; invalid pixels back to 0', () => {
  const x = new Float32Array([0.5, 1, 0, 0.25]);
  normalizeInPlace(x, { mean: [0.5, 0.25], std: [0.5, 0.25] }, new Uint8Array([1, 0]));
  assert.deepEqual([...x], [0, 0, -1, 0]);
  assertThrows(
    () => normalizeInPlace(new Float32Array(3), { mean: [0, 0], std: [1, 1] }),
    RangeError,
    /data\.length must be a multiple of the 2 channels/,
  );
  assertThrows(
    () => normalizeInPlace(new Float32Array(2), { mean: [0, 0], std: [1, 0] }),
    RangeError,
    /normalization\.std\[1\] must be a positive number, got 0/,
  );
  assertThrows(
    () => normalizeInPlace(new Float32Array(2), { mean: [0], std: [1, 1] }),
    RangeError,
    /normalization\.std must be an array of 1 numbers/,
  );
});

test('BandStats by hand: 8-bit with an invalid pixel', () => {
  const s = new BandStats();
  s.update(image(new Uint8Array([1, 2, 3, 200, 10, 20, 30, 40]), 2, 2, 2, new Uint8Array([1, 1, 1, 0])));
  s.update(image(new Uint8Array([4, 40]), 2, 1, 1));
  const r = s.result();
  assert.deepEqual([r.bands, r.count, r.min, r.max], [2, 4, [1, 10], [4, 40]]);
  assert.deepEqual(r.mean, [2.5, 25]);
  close(r.std, [Math.sqrt(1.25), Math.sqrt(125)], 1e-15, 'std');
  // numpy 'lower': index floor(3 * p / 100) of [1, 2, 3, 4]: p50 -> 1.5 -> 2; p98 -> 2.94 -> 3.
  assert.deepEqual(
    [r.percentile(0), r.percentile(50), r.p98, r.percentile(100)],
    [
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
    ],
  );
  assertThrows(() => r.percentile(101), RangeError, /BandStats\.percentile: p must be a finite number from 0 to 100, got 101/);
  assertThrows(
    () => s.update(image(new Uint16Array(2), 2, 1, 1)),
    Error,
    /the first had 2 band\(s\) of 8-bit samples, this one 2 of 16-bit samples/,
  );
  assertThrows(() => s.update(image(new Uint8Array(3), 3, 1, 1)), Error, /this one 3 of 8-bit samples/);
  assertThrows(() => new BandStats().result(), Error, /no valid pixels seen yet/);
  assertThrows(() => new BandStats({ bins: 7 }), RangeError, /bins must be an even integer/);
  assertThrows(() => new BandStats({ bin: 8 } as never), TypeError, /BandStats: unknown option 'bin'.*did you mean 'bins'/);
});

test('BandStats on the five Kavre tiles equals numpy over their valid pixels (exact histogram)', async () => {
  const s = new BandStats();
  for (const t of expected.tiles.filter((x: { mode: string }) => x.mode === 'RGBA')) s.update(await decodeImage(join(ROOT, t.path)));
  const r = s.result();
  const e = expected.kavreStats;
  assert.equal(r.count, e.count);
  assert.deepEqual([r.min, r.max], [e.min, e.max]);
  close(r.mean, e.mean, 1e-12, 'mean');
  close(r.std, e.std, 1e-12, 'std');
  for (const [p, v] of Object.entries(e.percentiles)) assert.deepEqual(r.percentile(Number(p)), v, `p${p}`);
  assert.deepEqual([r.p2, r.p98], [e.percentiles['2'], e.percentiles['98']]);
});

test('BandStats on the SpaceNet uint16 GeoTIFF equals numpy (gdal_translate read), and its stretch scales it', async () => {
  const img = await decodeImage(join(ROOT, 'test/data/spacenet4-atlanta/sample_geotiff.tif'));
  const s = new BandStats();
  s.update(img);
  const r = s.result();
  const e = expected.spacenetStats;
  assert.deepEqual([r.bands, r.count, r.min, r.max], [1, e.count, e.min, e.max]);
  close(r.mean, e.mean, 1e-12, 'mean');
  close(r.std, e.std, 1e-12, 'std');
  for (const [p, v] of Object.entries(e.percentiles)) assert.deepEqual(r.percentile(Number(p)), v, `p${p}`);
  const stretch = stretchFromStats(r);
  assert.deepEqual(stretch, { kind: 'stretch', low: e.percentiles['2'], high: e.percentiles['98'] });
  assert.deepEqual(JSON.parse(JSON.stringify(stretch)), stretch, 'JSON-serialisable for a checkpoint');
  const x = scaleToFloat(img, stretch);
  const [lo, hi] = [stretch.low[0]!, stretch.high[0]!];
  for (const p of e.pixels) assert.equal(x[p.y * 900 + p.x], f32(Math.min(1, Math.max(0, (p.value - lo) / (hi - lo)))));
  assertThrows(() => stretchFromStats(r, 50, 20), RangeError, /stretchFromStats: high must be a finite number in \(50, 100\], got 20/);
});

test('stretchFromStats widens a constant band instead of dividing by zero', () => {
  const s = new BandStats();
  s.update(image(new Uint16Array([7, 7, 7, 7, 1, 2, 3, 100]), 2, 2, 2));
  const st = stretchFromStats(s.result(), 2, 50);
  assert.deepEqual(st, { kind: 'stretch', low: [7, 1], high: [8, 2] });
  assert.deepEqual(stretchFromStats(s.result(), 0, 2), { kind: 'stretch', low: [7, 1], high: [8, 100] }, 'p2 = p0 falls back to max');
});

/** numpy's method='lower' on an explicit sort: the reference for the float histogram. */
function lowerPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) * (p / 100))]!;
}

test('BandStats on float rasters: moments as numpy, percentiles within half a bin as the range grows', async () => {
  const img = await decodeImage(join(FIXTURES, 'decode', 'float2.tif'));
  const s = new BandStats({ bins: 256 });
  s.update(img);
  const r = s.result();
  const e = expected.files['float2.tif'].stats;
  assert.deepEqual([r.count, r.min, r.max], [e.count, e.min, e.max]);
  close(r.mean, e.mean, 1e-12, 'mean');
  close(r.std, e.std, 1e-12, 'std');
  for (const [p, v] of Object.entries(e.percentiles) as [string, number[]][]) {
    const got = r.percentile(Number(p));
    v.forEach((want, b) =>
      assert.ok(Math.abs(got[b]! - want) <= (e.max[b] - e.min[b]) / 256 / 2 + 1e-9, `p${p} band ${b}: ${got[b]} vs ${want}`),
    );
  }
  // A second image far outside the first one's range, both ways, with NaN and invalid pixels.
  const a = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3);
  const b = [-50, 7, Number.NaN, 120, 0.5, 2, 999, -3];
  const s2 = new BandStats({ bins: 64 });
  s2.update(image(new Float32Array(a), 1, 5, 8));
  s2.update(image(new Float32Array(b), 1, 2, 4, new Uint8Array([1, 1, 1, 1, 1, 1, 0, 1])));
  const kept = [...a, ...b.filter((v, i) => i !== 6 && !Number.isNaN(v))].map(f32);
  const r2 = s2.result();
  assert.equal(r2.count, kept.length);
  assert.deepEqual([r2.min[0], r2.max[0]], [-50, 120]);
  const mean = kept.reduce((x, y) => x + y, 0) / kept.length;
  close(r2.mean, [mean], 1e-12, 'mean');
  close(r2.std, [Math.sqrt(kept.reduce((x, y) => x + (y - mean) ** 2, 0) / kept.length)], 1e-12, 'std');
  // The first image's span, about 6 over 64 bins, doubled 6 times to cover [-50, 120]: 384 over
  // 64 bins of 6, so a percentile is within 3 of the exact one (p0 and p100 are exact).
  for (const p of [0, 2, 10, 25, 50, 75, 98, 100]) {
    const want = lowerPercentile(kept, p);
    assert.ok(Math.abs(r2.percentile(p)[0]! - want) <= 3, `p${p}: ${r2.percentile(p)[0]} vs ${want}`);
  }
  assert.deepEqual([r2.percentile(0)[0], r2.percentile(100)[0]], [-50, 120]);
});
