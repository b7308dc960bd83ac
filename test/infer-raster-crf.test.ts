// The dense CRF over rasters in tiles (src/infer/raster-crf.ts, predictRaster's `crf`): exact
// when the raster is one tile, in agreement with the whole-image CRF across seams, raising the
// IoU of a blurred prediction as the whole-image CRF does, refusing bad options before any
// output exists, and leaving no tensor alive.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data, geo, torch, type Tensor } from '../src/index.js';
import type { Raster, RasterArray, RasterWindow } from '../src/geo/geotiff.js';
import { denseCrf, TiledCrf, tiledDenseCrf, RASTER_CRF_DEFAULTS } from '../src/infer/index.js';
import { createPredictor, type Predictor } from '../src/infer/predictor.js';
import { predictGeoTiff, predictRaster, type RowSink } from '../src/infer/raster.js';
import { maskOf, readRasterCrf } from '../src/infer/raster-crf.js';
import { assertThrows, REGIONS, tensorTest } from './helpers.js';

const MODEL = join(REGIONS, '..', '..', '..', 'models', 'buildings', 'model.safetensors');

/** RGB uint8 pixels [3, H, W] of a rows x cols mosaic of a region's tiles (from tile `first` on), cut to w x h, with the truth mask. */
async function mosaic(region: string, cols: number, rows: number, w: number, h: number, first = 0) {
  const ds = await data.open(join(REGIONS, region));
  const tiles = await Promise.all(Array.from({ length: rows * cols }, (_, i) => ds.get(first + i)));
  const { pixels, truth } = torch.tidy(() => {
    const grid = (pick: (i: number) => Tensor, dims: number) =>
      torch
        .cat(
          Array.from({ length: rows }, (_, r) =>
            torch.cat(
              Array.from({ length: cols }, (_, c) => pick(r * cols + c)),
              dims,
            ),
          ),
          dims - 1,
        )
        .narrow(dims - 1, 0, h)
        .narrow(dims, 0, w);
    const image = grid((i) => tiles[i]!.image, 2);
    const mask = grid((i) => tiles[i]!.mask, 1);
    return {
      pixels: image.mul(255).round().to({ dtype: 'uint8' }).contiguous().toArray() as Uint8Array,
      truth: mask.eq(1).to({ dtype: 'uint8' }).contiguous().toArray() as Uint8Array,
    };
  });
  torch.dispose(tiles.map((t) => [t.image, t.mask]));
  return { pixels, truth };
}

/** A Raster over uint8 pixels [3, h, w] in memory. */
function memoryRaster(pixels: Uint8Array, width: number, height: number): Raster {
  return {
    info: {
      path: 'memory',
      width,
      height,
      bands: 3,
      dtype: 'uint8',
      nodata: null,
      transform: null,
      crs: null,
      tileWidth: width,
      tileHeight: 1,
    },
    async readWindow(win: RasterWindow): Promise<RasterArray> {
      const out = new Uint8Array(3 * win.width * win.height);
      for (let b = 0; b < 3; b++) {
        for (let r = 0; r < win.height; r++) {
          const src = (b * height + win.y + r) * width + win.x;
          out.set(pixels.subarray(src, src + win.width), (b * win.height + r) * win.width);
        }
      }
      return out;
    },
    async close() {},
  };
}

/** A RowSink into memory that fails on a row written twice or out of order. */
function memorySink(width: number, height: number, planes: number, kind: 'mask' | 'probabilities') {
  const values = kind === 'mask' ? new Uint8Array(width * height) : new Float32Array(planes * width * height);
  const writes: [number, number][] = [];
  const sink: RowSink = {
    async writeWindow(w, d) {
      const last = writes.at(-1);
      assert.equal(w.y, last ? last[0] + last[1] : 0, `${kind}: rows written top to bottom, each once`);
      assert.deepEqual([w.x, w.width], [0, width]);
      assert.equal(d.length, planes * w.width * w.height);
      writes.push([w.y, w.height]);
      for (let k = 0; k < planes; k++) values.set(d.subarray(k * w.height * width, (k + 1) * w.height * width), (k * height + w.y) * width);
    },
  };
  return { sink, values, writes };
}

/** Probabilities [1, h, w] of the whole image at once, as Predictor.probabilities gives them. */
function wholeProbabilities(predictor: Predictor, pixels: Uint8Array, w: number, h: number): Float32Array {
  return torch.tidy(
    () =>
      predictor
        .probabilities(
          torch
            .tensor(pixels, { shape: [3, h, w] })
            .float()
            .div(255),
        )
        .toArray() as Float32Array,
  );
}

/** RGB bytes interleaved from [3, h, w]. */
function interleaved(pixels: Uint8Array, n: number): Uint8Array {
  const rgb = new Uint8Array(n * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) rgb[i * 3 + c] = pixels[c * n + i]!;
  return rgb;
}

tensorTest('a raster of one tile gets exactly the whole-image CRF, written top to bottom once', async (t) => {
  const [W, H] = [256, 224];
  const { pixels } = await mosaic('kavre', 1, 1, W, H, 3);
  // Windows of 128 rows make strips of 96: several pushes before the one band of tiles is complete.
  const predictor = createPredictor(MODEL, { window: 128, overlap: 32, device: 'cpu' });
  try {
    const p = wholeProbabilities(predictor, pixels, W, H);
    const rgb = interleaved(pixels, W * H);
    for (const crf of [true, { iterations: 5, smoothness: { weight: 5 } }] as const) {
      const expected = denseCrf(rgb, p, { ...(crf === true ? {} : crf), width: W, height: H });
      const mask = memorySink(W, H, 1, 'mask');
      const prob = memorySink(W, H, 1, 'probabilities');
      const progress: number[] = [];
      const rows = await predictRaster(predictor, memoryRaster(pixels, W, H), {
        mask: mask.sink,
        probabilities: prob.sink,
        crf,
        onProgress: (done) => progress.push(done),
      });
      assert.equal(rows, H);
      assert.deepEqual(prob.writes, [[0, H]], 'one band, written once the last strip is known');
      assert.deepEqual(mask.writes, prob.writes);
      assert.equal(progress.at(-1), H);
      let maxDiff = 0;
      for (let i = 0; i < W * H; i++) maxDiff = Math.max(maxDiff, Math.abs(prob.values[i]! - expected[i]!));
      t.diagnostic(`crf ${JSON.stringify(crf)}: max |Δq| ${maxDiff.toExponential(2)} against denseCrf on the whole image`);
      assert.ok(maxDiff < 1e-5, `max |Δq| ${maxDiff} against denseCrf on the whole image`);
      for (let i = 0; i < W * H; i++) assert.equal(mask.values[i], expected[i]! >= predictor.threshold ? 1 : 0);
      // The CRF did something: refined probabilities are not the network's.
      let moved = 0;
      for (let i = 0; i < W * H; i++) moved = Math.max(moved, Math.abs(prob.values[i]! - p[i]!));
      assert.ok(moved > 0.1, `the CRF moved probabilities by at most ${moved}`);
    }
  } finally {
    predictor.dispose();
  }
});

tensorTest('a GeoTIFF of six tiles: the tiled CRF agrees with the whole-image CRF, disagreeing most near seams', async (t) => {
  const [W, H] = [700, 500];
  const crf = { tileSize: 256, margin: 128 }; // 3 x 2 tiles of 233-234 x 250
  const dir = mkdtempSync(join(tmpdir(), 'segkit-raster-crf-'));
  const { pixels } = await mosaic('kavre', 3, 2, W, H);
  const path = join(dir, 'mosaic.tif');
  const transform = [9462000, 0.075, 0, -3106000, 0, -0.075] as const;
  await geo.writeGeoTiff(path, pixels, { width: W, height: H, bands: 3, dtype: 'uint8', crs: 'EPSG:3857', transform: [...transform] });
  const predictor = createPredictor(MODEL, { window: 256, overlap: 64, device: 'cpu' });
  try {
    const started = performance.now();
    await predictGeoTiff(predictor, path, { mask: join(dir, 'mask.tif'), probabilities: join(dir, 'prob.tif'), crf });
    const seconds = (performance.now() - started) / 1000;
    const p = wholeProbabilities(predictor, pixels, W, H);
    const whole = denseCrf(interleaved(pixels, W * H), p, { width: W, height: H });
    const [maskR, probR] = await Promise.all([geo.openRaster(join(dir, 'mask.tif')), geo.openRaster(join(dir, 'prob.tif'))]);
    let mask: Uint8Array;
    let prob: Float32Array;
    try {
      assert.equal(maskR.info.crs, 'EPSG:3857');
      assert.deepEqual(maskR.info.transform, [...transform]);
      mask = (await maskR.readWindow({ x: 0, y: 0, width: W, height: H })) as Uint8Array;
      prob = (await probR.readWindow({ x: 0, y: 0, width: W, height: H })) as Float32Array;
    } finally {
      await Promise.all([maskR.close(), probR.close()]);
    }
    const seam = (v: number, size: number) => {
      const n = Math.ceil(size / crf.tileSize);
      let d = Number.POSITIVE_INFINITY;
      for (let j = 1; j < n; j++) d = Math.min(d, Math.abs(v + 0.5 - Math.round((j * size) / n)));
      return d;
    };
    let agree = 0;
    let flippedByCrf = 0;
    let flippedAlike = 0;
    const near = { pixels: 0, off: 0 };
    const far = { pixels: 0, off: 0 };
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        assert.equal(mask[i], prob[i]! >= predictor.threshold ? 1 : 0, 'the mask is the refined probabilities at the threshold');
        const a = prob[i]! >= predictor.threshold;
        const b = whole[i]! >= predictor.threshold;
        if (a === b) agree++;
        if (b !== p[i]! >= predictor.threshold) {
          flippedByCrf++;
          if (a === b) flippedAlike++;
        }
        const bin = Math.min(seam(x, W), seam(y, H)) < 32 ? near : Math.min(seam(x, W), seam(y, H)) >= crf.margin ? far : null;
        if (bin) {
          bin.pixels++;
          if (a !== b) bin.off++;
        }
      }
    }
    const rate = (b: typeof near) => b.off / b.pixels;
    t.diagnostic(
      `${W}x${H} in ${crf.tileSize} px tiles, margin ${crf.margin}: masks agree on ${((100 * agree) / (W * H)).toFixed(2)} %; ` +
        `the whole-image CRF flips ${flippedByCrf} pixels, the tiled one ${flippedAlike} of them; disagreement ` +
        `${(100 * rate(near)).toFixed(3)} % within 32 px of a seam, ${(100 * rate(far)).toFixed(3)} % from ${crf.margin} px on; ` +
        `predictGeoTiff with the CRF ${seconds.toFixed(1)} s`,
    );
    assert.ok(agree >= 0.99 * W * H, `the masks agree on ${agree} of ${W * H} pixels`);
    assert.ok(flippedByCrf > 0.005 * W * H, `the whole-image CRF flips only ${flippedByCrf} pixels: nothing to compare`);
    assert.ok(flippedAlike >= 0.9 * flippedByCrf, `the tiled CRF makes ${flippedAlike} of the whole one's ${flippedByCrf} changes`);
    assert.ok(rate(near) > rate(far), `disagreement near seams ${rate(near)} vs far from them ${rate(far)}`);
  } finally {
    predictor.dispose();
  }
});

/**
 * A stride-8 network's view of the true mask (as test/crf.test.ts): the mean of each 8x8
 * block, repeated back to full size, through a logistic of slope 20 around 0.5.
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

tensorTest('on a blurred prediction the tiled CRF raises the IoU as the whole-image CRF does', async (t) => {
  const [W, H] = [512, 512];
  const rows: string[] = [];
  const gains: { tiled: number; whole: number }[] = [];
  // Zanzibar's first ten tiles hold no building.
  for (const [region, first] of [
    ['kavre', 0],
    ['catanduanes', 0],
    ['zanzibar', 10],
    ['nairobi', 0],
  ] as const) {
    const { pixels, truth } = await mosaic(region, 2, 2, W, H, first);
    const rgb = interleaved(pixels, W * H);
    const p = coarsePrediction(truth, W, H);
    // 3 x 3 tiles of 170 px, margin 96: seams cross buildings in every mosaic.
    const options = { tileSize: 192, margin: 96 };
    const tiled = tiledDenseCrf(rgb, p, { ...options, width: W, height: H });
    if (region === 'kavre') {
      // Two softmax planes pushed in uneven strips, as predictRaster pushes them: the same
      // tiles, so the same result as one push of the sigmoid plane.
      const two = new Float32Array(2 * W * H);
      for (let i = 0; i < W * H; i++) [two[i], two[W * H + i]] = [1 - p[i]!, p[i]!];
      const tiler = new TiledCrf(W, H, 2, readRasterCrf('test', options)!);
      const fg = new Float32Array(W * H);
      let y = 0;
      let next = 0;
      for (const rows of [37, 150, 1, 200, 124]) {
        const planes = Float32Array.from([0, 1].flatMap((k) => [...two.subarray((k * H + y) * W, (k * H + y + rows) * W)]));
        for (const band of tiler.push(rgb.subarray(y * W * 3, (y + rows) * W * 3), planes)) {
          assert.equal(band.y, next, 'bands in order, each row once');
          next += band.rows;
          fg.set(band.probabilities.subarray(band.rows * W), band.y * W);
        }
        y += rows;
      }
      assert.deepEqual([y, next], [H, H]);
      let maxDiff = 0;
      for (let i = 0; i < W * H; i++) maxDiff = Math.max(maxDiff, Math.abs(fg[i]! - tiled[i]!));
      assert.ok(maxDiff < 1e-5, `K = 2 in strips vs K = 1 at once: max |Δq| ${maxDiff}`);
    }
    const whole = denseCrf(rgb, p, { width: W, height: H });
    const [before, afterTiled, afterWhole] = [iou(p, truth), iou(tiled, truth), iou(whole, truth)];
    gains.push({ tiled: afterTiled - before, whole: afterWhole - before });
    rows.push(`${region} ${before.toFixed(4)} -> tiled ${afterTiled.toFixed(4)}, whole ${afterWhole.toFixed(4)}`);
  }
  t.diagnostic(`IoU of a blurred truth: ${rows.join('; ')}`);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const tiledGain = mean(gains.map((g) => g.tiled));
  const wholeGain = mean(gains.map((g) => g.whole));
  assert.ok(tiledGain > 0.003, `the tiled CRF changes the mean IoU by ${tiledGain}`);
  assert.ok(Math.abs(tiledGain - wholeGain) < 0.25 * wholeGain, `mean IoU gain: tiled ${tiledGain}, whole ${wholeGain}`);
});

tensorTest('bad CRF options are refused before any work, with the option named', async () => {
  const predictor = createPredictor(MODEL, { window: 128, overlap: 32, device: 'cpu' });
  const raster = memoryRaster(new Uint8Array(3 * 64 * 64), 64, 64);
  const sink = memorySink(64, 64, 1, 'mask');
  const dir = mkdtempSync(join(tmpdir(), 'segkit-raster-crf-bad-'));
  try {
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      ['yes', TypeError, /^predictRaster: crf must be true, false or an object of CRF options \(iterations, .*margin\), got 'yes'$/],
      [{ tileSize: 8 }, RangeError, /^predictRaster: crf\.tileSize must be an integer >= 16, got 8$/],
      [{ tileSize: 256.5 }, RangeError, /crf\.tileSize must be an integer >= 16, got 256\.5/],
      [{ margin: -1 }, RangeError, /^predictRaster: crf\.margin must be a non-negative integer, got -1$/],
      [{ tilesize: 512 }, TypeError, /^predictRaster: crf: unknown option 'tilesize' .*did you mean 'tileSize'\?$/],
      [{ width: 64 }, TypeError, /crf: unknown option 'width'/],
      [{ iterations: 0 }, RangeError, /crf\.iterations must be a positive integer, got 0/],
      [{ appearance: { weight: -1 } }, RangeError, /crf\.appearance\.weight must be a non-negative number, got -1/],
      [{ appearance: { rgbStd: Number.NaN } }, RangeError, /crf\.appearance\.rgbStd must be a positive number, got NaN/],
      [{ smoothness: { sigma: 3 } }, TypeError, /crf\.smoothness: unknown option 'sigma'/],
    ];
    for (const [crf, kind, pattern] of cases) {
      await assert.rejects(predictRaster(predictor, raster, { mask: sink.sink, crf: crf as never }), (e: Error) => {
        assert.ok(e instanceof kind, `${JSON.stringify(crf)}: ${e.constructor.name}: ${e.message}`);
        assert.match(e.message, pattern);
        return true;
      });
    }
    assert.deepEqual(sink.writes, []);
    // predictGeoTiff refuses before it creates an output.
    await assert.rejects(
      predictGeoTiff(predictor, join(dir, 'absent.tif'), { mask: join(dir, 'mask.tif'), crf: { margin: -1 } }),
      /^RangeError: predictGeoTiff: crf\.margin must be a non-negative integer, got -1$/,
    );
    assert.equal(existsSync(join(dir, 'mask.tif')), false);
  } finally {
    predictor.dispose();
  }
  // Several planes make a mask of class indices, the first of ties as torch's argmax.
  assert.deepEqual(
    maskOf(Float32Array.from([0.2, 0.5, 0.3, 0.5, 0.1, 0.2, 0.4, 0.0, 0.7, 0.3, 0.3, 0.5]), 3, 4, 0.5),
    Uint8Array.from([2, 0, 1, 0]),
  );
  assert.deepEqual(maskOf(Float32Array.from([0.5, 0.49, 0.9]), 1, 3, 0.5), Uint8Array.from([1, 0, 1]));
  // The defaults, and the tiler's own checks.
  assert.deepEqual(readRasterCrf('f', true), {
    tileSize: RASTER_CRF_DEFAULTS.tileSize,
    margin: RASTER_CRF_DEFAULTS.margin,
    crf: { iterations: 10, appearance: { weight: 4, xyStd: 121, rgbStd: 5 }, smoothness: { weight: 3, xyStd: 3 } },
  });
  assert.equal(readRasterCrf('f', false), null);
  const tiler = new TiledCrf(4, 3, 1, readRasterCrf('f', true)!);
  assertThrows(
    () => tiler.push(new Uint8Array(5), new Float32Array(4)),
    RangeError,
    /TiledCrf\.push: rgb must be whole rows of 4 x 3 bytes/,
  );
  assertThrows(
    () => tiler.push(new Uint8Array(12), new Float32Array(3)),
    RangeError,
    /probabilities must be 1 x 1 x 4 values, got '3 values'/,
  );
  assert.deepEqual(tiler.push(new Uint8Array(24), new Float32Array(8).fill(0.5)), []);
  assertThrows(() => tiler.push(new Uint8Array(24), new Float32Array(8)), RangeError, /at most the 1 row\(s\) left/);
  const [last] = tiler.push(new Uint8Array(12), new Float32Array(4).fill(0.5));
  assert.deepEqual([last!.y, last!.rows, last!.probabilities.length], [0, 3, 12]);
  const size = { width: 4, height: 3 };
  assertThrows(() => tiledDenseCrf(new Uint8Array(35), new Float32Array(12), size), RangeError, /tiledDenseCrf: image must be 36 bytes/);
  assertThrows(() => tiledDenseCrf(new Uint8Array(36), new Float32Array(13), size), RangeError, /probabilities must be K x 3 x 4 values/);
  assertThrows(
    () => tiledDenseCrf(new Uint8Array(36), new Float32Array(12), { ...size, margin: 1.5 }),
    RangeError,
    /tiledDenseCrf: margin must be/,
  );
  assertThrows(() => tiledDenseCrf(new Uint8Array(36), [] as never, size), TypeError, /probabilities must be a Float32Array/);
});
