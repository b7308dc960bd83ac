// Dense CRF (native/crf.cc, src/infer/crf.ts) and the mask clean-up utilities: the
// permutohedral filter against a brute-force Gaussian filter, mean field reducing to the
// input without pairwise terms, IoU gained on real tiles from a coarse prediction, the time of
// a 512x512 tile, bad input, and no tensor left alive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data, torch, type Tensor } from '../src/index.js';
import { DEEPLAB_CRF, denseCrf, fillHoles, gaussianFilter, removeSmallObjects } from '../src/infer/index.js';
import { native } from '../src/torch/native.js';
import { assertThrows, tensorTest } from './helpers.js';

const REGIONS = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'demo', 'regions');

/** A seeded uniform generator in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** sum_j g_ij v_j / sum_j g_ij with g_ij = exp(-|f_i - f_j|^2 / 2), point by point. */
function bruteForce(features: Float32Array, values: Float32Array, dims: number): Float64Array {
  const n = features.length / dims;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let w = 0;
    for (let j = 0; j < n; j++) {
      let d2 = 0;
      for (let k = 0; k < dims; k++) d2 += (features[i * dims + k]! - features[j * dims + k]!) ** 2;
      const g = Math.exp(-d2 / 2);
      s += g * values[j]!;
      w += g;
    }
    out[i] = s / w;
  }
  return out;
}

/** ||a - b|| / ||b||. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('the permutohedral filter approximates a brute-force Gaussian filter', (t) => {
  const r = random(7);
  // A 24x24 image: a spatial filter (d = 2, std 2.5 px) and a bilateral one (d = 5, std 4 px
  // and 20 colour levels) of zero-mean noise, the hardest input for the lattice, whose output
  // is small where the noise averages out; and of a smooth signal, the CRF's case.
  const w = 24;
  const n = w * w;
  const rgb = Array.from({ length: n * 3 }, (_, i) => 128 + 60 * Math.sin((i % (w * 3)) / 9 + Math.floor(i / (w * 3)) / 7) + 30 * r());
  const spatial = new Float32Array(n * 2);
  const bilateral = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    spatial.set([x / 2.5, y / 2.5], i * 2);
    bilateral.set([x / 4, y / 4, rgb[i * 3]! / 20, rgb[i * 3 + 1]! / 20, rgb[i * 3 + 2]! / 20], i * 5);
  }
  const noise = Float32Array.from({ length: n }, () => r() * 2 - 1);
  const smooth = Float32Array.from({ length: n }, (_, i) => Math.sin((i % w) / 5) + Math.cos(Math.floor(i / w) / 4) + 2);
  const errors: Record<string, number> = {};
  for (const [name, features, dims] of [
    ['spatial', spatial, 2],
    ['bilateral', bilateral, 5],
  ] as const) {
    for (const [kind, values] of [
      ['noise', noise],
      ['smooth', smooth],
    ] as const) {
      errors[`${name} ${kind}`] = relativeError(gaussianFilter(features, values, { dims }), bruteForce(features, values, dims));
    }
  }
  t.diagnostic(`relative L2 errors: ${JSON.stringify(errors, (_, v) => (typeof v === 'number' ? Number(v.toFixed(4)) : v))}`);
  // Bounds: the lattice approximates the Gaussian (Adams et al. report errors of a few
  // percent); measured 0.07 and 0.17 on noise, 0.006 and 0.02 on the smooth signal.
  assert.ok(errors['spatial noise']! < 0.12, `spatial noise ${errors['spatial noise']}`);
  assert.ok(errors['bilateral noise']! < 0.25, `bilateral noise ${errors['bilateral noise']}`);
  assert.ok(errors['spatial smooth']! < 0.02, `spatial smooth ${errors['spatial smooth']}`);
  assert.ok(errors['bilateral smooth']! < 0.04, `bilateral smooth ${errors['bilateral smooth']}`);
  // Several channels at once filter each as alone.
  const two = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) two.set([noise[i]!, smooth[i]!], i * 2);
  const both = gaussianFilter(spatial, two, { dims: 2, channels: 2 });
  const alone = gaussianFilter(spatial, smooth, { dims: 2 });
  for (let i = 0; i < n; i++) assert.ok(Math.abs(both[i * 2 + 1]! - alone[i]!) < 1e-5);
});

test('mean field with zero pairwise weights returns the input probabilities', () => {
  const r = random(3);
  const w = 17;
  const h = 11;
  const n = w * h;
  const image = Uint8Array.from({ length: n * 3 }, () => Math.floor(r() * 256));
  const k = 3;
  const p = new Float32Array(k * n);
  for (let i = 0; i < n; i++) {
    const a = r() + 0.01;
    const b = r() + 0.01;
    const c = r() + 0.01;
    p[i] = a / (a + b + c);
    p[n + i] = b / (a + b + c);
    p[2 * n + i] = c / (a + b + c);
  }
  const off = { width: w, height: h, appearance: { weight: 0 }, smoothness: { weight: 0 } };
  const q = denseCrf(image, p, off);
  assert.equal(q.length, k * n);
  for (let i = 0; i < q.length; i++) assert.ok(Math.abs(q[i]! - p[i]!) < 1e-6, `${i}: ${q[i]} vs ${p[i]}`);
  // A binary sigmoid output comes back as the foreground's probability.
  const sigmoid = Float32Array.from({ length: n }, () => r());
  const q1 = denseCrf(image, sigmoid, off);
  assert.equal(q1.length, n);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(q1[i]! - sigmoid[i]!) < 1e-6);
  // With the kernels on, Q is still a distribution per pixel.
  const q2 = denseCrf(image, p, { width: w, height: h });
  for (let i = 0; i < n; i++) assert.ok(Math.abs(q2[i]! + q2[n + i]! + q2[2 * n + i]! - 1) < 1e-5);
});

/**
 * A stride-8 network's view of the true mask: the mean of each 8x8 block (a box blur, then
 * downsampled by 8), upsampled back by repeating it, as a probability sharp away from edges
 * (a logistic of slope 20 around 0.5).
 */
function coarsePrediction(mask: Uint8Array, w: number, h: number, f = 8): Float32Array {
  const sw = Math.ceil(w / f);
  const small = new Float32Array(sw * Math.ceil(h / f));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) small[Math.floor(y / f) * sw + Math.floor(x / f)]! += mask[y * w + x]! / (f * f);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = 1 / (1 + Math.exp(-20 * (small[Math.floor(y / f) * sw + Math.floor(x / f)]! - 0.5)));
  }
  return out;
}

function iou(p: Float32Array, truth: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = p[i]! > 0.5 ? 1 : 0;
    inter += a & truth[i]!;
    union += a | truth[i]!;
  }
  return union === 0 ? 1 : inter / union;
}

tensorTest('on real tiles the CRF raises the IoU of a coarse prediction', async (t) => {
  const before: number[] = [];
  const after: number[] = [];
  for (const region of ['kavre', 'catanduanes', 'zanzibar', 'nairobi']) {
    const ds = await data.open(join(REGIONS, region));
    for (const i of [0, 5, 10]) {
      const { image, mask } = await ds.get(i);
      const [, h, w] = image.shape as [number, number, number];
      const truth = Uint8Array.from(mask.toArray() as BigInt64Array, (v) => (v === 1n ? 1 : 0));
      const p = coarsePrediction(truth, w, h);
      before.push(iou(p, truth));
      // The tensor straight from the data layer: float [3, H, W] in [0, 1].
      after.push(iou(denseCrf(image, p), truth));
      image.dispose();
      mask.dispose();
    }
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const better = after.filter((v, i) => v > before[i]!).length;
  t.diagnostic(`IoU over ${before.length} tiles: ${mean(before).toFixed(4)} -> ${mean(after).toFixed(4)} (better on ${better})`);
  assert.ok(mean(after) > mean(before) + 0.003, `mean IoU ${mean(before)} -> ${mean(after)}`);
  assert.ok(better > before.length / 2, `better on ${better} of ${before.length} tiles`);
});

tensorTest('a 512x512 tile, K = 2, 10 iterations, in well under 2 s', async (t) => {
  // Four real tiles side by side.
  const ds = await data.open(join(REGIONS, 'kavre'));
  const size = 512;
  const rgb = new Uint8Array(size * size * 3);
  const truth = new Uint8Array(size * size);
  for (let q = 0; q < 4; q++) {
    const { image, mask } = await ds.get(q * 7);
    const px = image.toArray() as Float32Array;
    const m = mask.toArray() as BigInt64Array;
    image.dispose();
    mask.dispose();
    const ox = (q % 2) * 256;
    const oy = Math.floor(q / 2) * 256;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        const o = (oy + y) * size + ox + x;
        for (let c = 0; c < 3; c++) rgb[o * 3 + c] = Math.round(px[c * 65536 + y * 256 + x]! * 255);
        truth[o] = m[y * 256 + x] === 1n ? 1 : 0;
      }
    }
  }
  const p = coarsePrediction(truth, size, size);
  const times: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    denseCrf(rgb, p, { width: size, height: size, iterations: DEEPLAB_CRF.iterations });
    times.push(performance.now() - t0);
  }
  t.diagnostic(`512x512, K = 2, 10 iterations: ${times.map((v) => v.toFixed(0)).join(', ')} ms`);
  assert.ok(Math.min(...times) < 2000, `${Math.min(...times)} ms`);
});

test('bad input is refused with a clear error', () => {
  const w = 4;
  const h = 3;
  const image = new Uint8Array(w * h * 3);
  const p = new Float32Array(2 * w * h).fill(0.5);
  const size = { width: w, height: h };
  assertThrows(
    () => denseCrf(image, p, { ...size, iterations: 0 }),
    RangeError,
    /^denseCrf: iterations must be a positive integer, got 0$/,
  );
  assertThrows(() => denseCrf(image, p, { ...size, iterations: 2.5 }), RangeError, /iterations must be a positive integer/);
  assertThrows(
    () => denseCrf(image, p, { ...size, iteration: 3 } as never),
    TypeError,
    /unknown option 'iteration'.*did you mean 'iterations'/,
  );
  assertThrows(
    () => denseCrf(image, p, { ...size, appearance: { weight: -1 } }),
    RangeError,
    /appearance\.weight must be a non-negative number, got -1/,
  );
  assertThrows(
    () => denseCrf(image, p, { ...size, smoothness: { xyStd: 0 } }),
    RangeError,
    /smoothness\.xyStd must be a positive number, got 0/,
  );
  assertThrows(() => denseCrf(image, p, { ...size, appearance: { rgbStd: Number.NaN } }), RangeError, /appearance\.rgbStd/);
  assertThrows(() => denseCrf(image, p, { ...size, appearance: { sigma: 3 } as never }), TypeError, /appearance: unknown option 'sigma'/);
  assertThrows(() => denseCrf(image, p, { ...size, appearance: 4 as never }), TypeError, /appearance must be an object/);
  assertThrows(() => denseCrf(image, p), TypeError, /width must be a positive integer, got undefined/);
  assertThrows(() => denseCrf(Array.from(image) as never, p, size), TypeError, /image must be a Uint8Array/);
  assertThrows(() => denseCrf(image, Array.from(p) as never, size), TypeError, /probabilities must be a Float32Array/);
  assertThrows(() => denseCrf(image.subarray(3), p, size), RangeError, /image must be 36 bytes/);
  assertThrows(() => denseCrf(image, p.subarray(1), size), RangeError, /probabilities must be K x 3 x 4 values/);
  assertThrows(() => denseCrf(image, p, { width: 6, height: 3 }), RangeError, /image must be 54 bytes \(height 3 x width 6 x 3/);
  torch.tidy(() => {
    const chw = torch.zeros([3, h, w]);
    assertThrows(() => denseCrf(chw, p, { width: 5, height: h }), RangeError, /width must be 4/);
    assertThrows(() => denseCrf(chw, torch.zeros([2, h + 1, w])), RangeError, /same size/);
    assertThrows(() => denseCrf(torch.zeros([h, w, 3], { dtype: 'int64' }), p), TypeError, /image must be/);
    assertThrows(() => denseCrf(torch.zeros([4, h, w]), p), RangeError, /image must be/);
    assertThrows(() => denseCrf(chw, torch.zeros([2, h, w], { dtype: 'int64' })), TypeError, /probabilities must be/);
  });
  // The addon checks again, so inconsistent sizes never read out of bounds.
  assertThrows(() => native.denseCrf(image, w, h + 1, p, 2, 10, 4, 121, 5, 3, 3), RangeError, /image must hold/);
  assertThrows(() => native.denseCrf(image, w, h, p, 3, 10, 4, 121, 5, 3, 3), RangeError, /probabilities must hold/);
  assertThrows(() => native.denseCrf(image, w, h, p, 1, 10, 4, 121, 5, 3, 3), RangeError, /classes/);
  assertThrows(() => native.denseCrf(image, w, h, p, 2, 10, 4, 0, 5, 3, 3), RangeError, /xyStd/);
  assertThrows(() => native.denseCrf(p as never, w, h, p, 2, 10, 4, 121, 5, 3, 3), TypeError, /image must be a Uint8Array/);
  assertThrows(() => native.permutohedralFilter(new Float32Array(5), 2, new Float32Array(2), 1), RangeError, /n x d/);
  assertThrows(() => native.permutohedralFilter(new Float32Array(4), 2, new Float32Array(3), 1), RangeError, /values must hold/);
  assertThrows(() => native.permutohedralFilter(new Float32Array([1e12, 0]), 2, new Float32Array(1), 1), RangeError, /finite/);
  assertThrows(() => native.permutohedralFilter(new Float32Array([Number.NaN, 0]), 2, new Float32Array(1), 1), RangeError, /finite/);
  assertThrows(
    () => gaussianFilter(new Float32Array(4), new Float32Array(2), { dims: 3 }),
    RangeError,
    /features must be a multiple of dims = 3/,
  );
  assertThrows(
    () => gaussianFilter(new Float32Array(4), new Float32Array(2), { dims: 0 }),
    RangeError,
    /dims must be an integer from 1 to 15/,
  );
});

tensorTest('tensors in give the same result as arrays, and leave nothing alive', async () => {
  const ds = await data.open(join(REGIONS, 'zanzibar'));
  const { image, mask } = await ds.get(2);
  const [, h, w] = image.shape as [number, number, number];
  const truth = Uint8Array.from(mask.toArray() as BigInt64Array, (v) => (v === 1n ? 1 : 0));
  const p = coarsePrediction(truth, w, h);
  const chw = image.toArray() as Float32Array;
  const rgb = new Uint8Array(w * h * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) rgb[i * 3 + c] = Math.round(chw[c * w * h + i]! * 255);
  const options = { iterations: 3 };
  const fromArrays = denseCrf(rgb, p, { ...options, width: w, height: h });
  const probs: Tensor = torch.tensor(p, { shape: [h, w] });
  const two: Tensor = torch.tidy(() => torch.stack([probs.neg().add(1), probs]));
  const hwc: Tensor = torch.tensor(rgb, { shape: [h, w, 3], dtype: 'uint8' });
  assert.deepEqual(denseCrf(image, probs, options), fromArrays);
  assert.deepEqual(denseCrf(hwc, p, options), fromArrays);
  const q2 = denseCrf(hwc, two, options);
  for (let i = 0; i < w * h; i++) assert.ok(Math.abs(q2[w * h + i]! - fromArrays[i]!) < 1e-5);
  torch.dispose([image, mask, probs, two, hwc]);
});

test('removeSmallObjects and fillHoles on hand-made masks', () => {
  // 8 x 7: a 3x3 ring around a 1-pixel hole, a 2-pixel object, a 1-pixel object touching the
  // ring only at a corner, and a 7-pixel U around a background bay open to the border.
  const rows = ['11100000', '10100110', '11100000', '00010000', '00000000', '01111100', '01000100'];
  const w = 8;
  const h = 7;
  const mask = Uint8Array.from(rows.join(''), (c) => (c === '1' ? 255 : 0));
  const show = (m: Uint8Array) => Array.from({ length: h }, (_, y) => Array.from(m.subarray(y * w, (y + 1) * w)).join(''));
  assert.deepEqual(show(removeSmallObjects(mask, w, h, { minSize: 3 })), [
    '11100000',
    '10100000',
    '11100000',
    '00000000',
    '00000000',
    '01111100',
    '01000100',
  ]);
  assert.deepEqual(show(removeSmallObjects(mask, w, h, { minSize: 8 })), [
    '11100000',
    '10100000',
    '11100000',
    '00000000',
    '00000000',
    '00000000',
    '00000000',
  ]);
  // With 8-connectivity the corner pixel joins the ring (9 pixels together).
  assert.deepEqual(show(removeSmallObjects(mask, w, h, { minSize: 9, connectivity: 8 })), [
    '11100000',
    '10100000',
    '11100000',
    '00010000',
    '00000000',
    '00000000',
    '00000000',
  ]);
  // Square metres: 7.5 cm pixels, 0.05 m² is 8.9 pixels.
  assert.deepEqual(
    removeSmallObjects(mask, w, h, { minArea: 0.05, pixelArea: 0.075 ** 2 }),
    removeSmallObjects(mask, w, h, { minSize: 9 }),
  );
  // The hole is filled; the bay under the U reaches the border and stays.
  assert.deepEqual(show(fillHoles(mask, w, h)), ['11100000', '11100110', '11100000', '00010000', '00000000', '01111100', '01000100']);
  assert.deepEqual(
    fillHoles(mask, w, h, { maxSize: 0 }),
    Uint8Array.from(mask, (v) => (v ? 1 : 0)),
  );
  assert.deepEqual(fillHoles(mask, w, h, { maxArea: 1, pixelArea: 1 }), fillHoles(mask, w, h));
  // A ring closed only through a diagonal is not closed for 4-connected objects; for
  // 8-connected ones it is.
  const diamond = Uint8Array.from('0100' + '1010' + '0100' + '0000', Number);
  assert.deepEqual(fillHoles(diamond, 4, 4), diamond);
  assert.deepEqual(fillHoles(diamond, 4, 4, { connectivity: 8 }), Uint8Array.from('0100' + '1110' + '0100' + '0000', Number));
  assert.deepEqual(fillHoles(new Uint8Array(0), 0, 0), new Uint8Array(0));

  assertThrows(
    () => removeSmallObjects(mask, w, h, {}),
    TypeError,
    /removeSmallObjects: minSize must be a non-negative number, got undefined/,
  );
  assertThrows(() => removeSmallObjects(mask, w, h, { minSize: 3, minArea: 1, pixelArea: 1 }), TypeError, /minSize \(pixels\) or minArea/);
  assertThrows(() => removeSmallObjects(mask, w, h, { minArea: 1 }), TypeError, /needs pixelArea/);
  assertThrows(
    () => removeSmallObjects(mask, w, h, { minArea: 1, pixelArea: 0 }),
    RangeError,
    /pixelArea must be a positive number, got 0/,
  );
  assertThrows(() => removeSmallObjects(mask, w, h, { minSize: -1 }), RangeError, /minSize must be a non-negative number, got -1/);
  assertThrows(() => fillHoles(mask, w, h, { pixelArea: 1 }), TypeError, /pixelArea is only used with maxArea/);
  assertThrows(() => fillHoles(mask, w, h, { connectivity: 6 as never }), RangeError, /connectivity must be 4 or 8, got 6/);
  assertThrows(() => fillHoles(mask, w + 1, h), RangeError, /mask must hold width \* height/);
  assertThrows(() => fillHoles(Array.from(mask) as never, w, h), TypeError, /mask must be a Uint8Array/);
});
