// Prediction: sliding windows blended into one map, test-time augmentation, ensembles, with the
// building model segkit ships (models/buildings) on real tiles of a region it never saw.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { torch, createModel, data, type Tensor } from '../src/index.js';
import { Predictor, createPredictor } from '../src/infer/predictor.js';
import { rampWeights, slidingWindows } from '../src/infer/windows.js';
import { evaluate } from '../src/train/evaluate.js';
import { loadTrained } from '../src/train/load.js';
import { tensorTest } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(ROOT, 'models', 'buildings', 'model.safetensors');
const KAVRE = join(ROOT, 'data', 'demo', 'regions', 'kavre');

test('sliding windows cover every pixel, end at the edges and share at least the overlap', () => {
  for (const [w, h, size, overlap] of [
    [1000, 700, 256, 64],
    [256, 256, 256, 64],
    [100, 600, 256, 32],
    [513, 257, 256, 0],
  ] as const) {
    const wins = slidingWindows(w, h, size, overlap);
    const seen = new Uint8Array(w * h);
    for (const win of wins) {
      assert.ok(win.x >= 0 && win.y >= 0 && win.x + win.width <= w && win.y + win.height <= h);
      for (let y = win.y; y < win.y + win.height; y++) for (let x = win.x; x < win.x + win.width; x++) seen[y * w + x] = 1;
    }
    assert.ok(
      seen.every((v) => v === 1),
      `${w}x${h}: every pixel in a window`,
    );
    const xs = [...new Set(wins.map((v) => v.x))].sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i - 1]! + Math.min(size, w) - xs[i]! >= overlap, 'neighbours share the overlap');
  }
  assert.deepEqual(
    Array.from(rampWeights(6, 2), (v) => +v.toFixed(4)),
    [0.3333, 0.6667, 1, 1, 0.6667, 0.3333],
  );
  assert.throws(() => slidingWindows(10, 10, 8, 8), /slidingWindows: overlap must be an integer below size \(8\), got 8/);
});

/** A 512x512 mosaic of four Kavre tiles with its truth, [3, 512, 512] in [0, 1] and [512, 512]. */
async function mosaic(): Promise<{ image: Tensor; truth: Tensor }> {
  const ds = await data.open(KAVRE);
  const tiles = await Promise.all([0, 1, 2, 3].map((i) => ds.get(i)));
  const result = torch.tidy(() => ({
    image: torch.cat([torch.cat([tiles[0]!.image, tiles[1]!.image], 2), torch.cat([tiles[2]!.image, tiles[3]!.image], 2)], 1),
    truth: torch.cat([torch.cat([tiles[0]!.mask, tiles[1]!.mask], 1), torch.cat([tiles[2]!.mask, tiles[3]!.mask], 1)], 0),
  }));
  torch.dispose(tiles.map((t) => [t.image, t.mask]));
  return result;
}

tensorTest('windowed prediction agrees with whole-image prediction away from the edges', async () => {
  const { image, truth } = await mosaic();
  truth.dispose();
  const whole = createPredictor(MODEL, { window: 512, device: 'cpu' });
  const windowed = createPredictor(MODEL, { window: 384, overlap: 128, batchSize: 3, device: 'cpu' });
  try {
    const [a, b] = [whole.probabilities(image), windowed.probabilities(image)];
    assert.deepEqual([...b.shape], [1, 512, 512]);
    const { agree, meanDiff } = torch.tidy(() => {
      const inner = (t: Tensor) => t.narrow(1, 32, 448).narrow(2, 32, 448);
      return {
        agree: inner(a).ge(0.5).eq(inner(b).ge(0.5)).float().mean().item(),
        meanDiff: inner(a).sub(inner(b)).abs().mean().item(),
      };
    });
    assert.ok(agree > 0.99, `masks agree on ${(agree * 100).toFixed(2)}% of the inner pixels`);
    assert.ok(meanDiff < 0.01, `mean |Δp| ${meanDiff}`);
    torch.dispose([a, b]);
  } finally {
    whole.dispose();
    windowed.dispose();
    image.dispose();
  }
});

tensorTest('the shipped model beats calling everything a building on the 40 held-out Kavre tiles', async () => {
  const ds = await data.open(KAVRE);
  const predictor = createPredictor(MODEL, { window: 256, device: 'cpu' });
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let buildings = 0;
  try {
    for (let i = 0; i < ds.length; i++) {
      const { image, mask } = await ds.get(i);
      torch.tidy(() => {
        const p = predictor.mask(image).ne(0);
        const t = mask.eq(1);
        tp += p.logicalAnd(t).sum().item();
        fp += p.logicalAnd(t.logicalNot()).sum().item();
        fn += t.logicalAnd(p.logicalNot()).sum().item();
        buildings += t.sum().item();
      });
      torch.dispose([image, mask]);
    }
  } finally {
    predictor.dispose();
  }
  const d = (2 * tp) / (2 * tp + fp + fn);
  const f = buildings / (ds.length * 256 * 256);
  // Measured when the model was trained: Dice 0.571 (segkit eval on the same tiles).
  assert.ok(Math.abs(d - 0.571) < 0.01, `Dice ${d}`);
  assert.ok(d > (2 * f) / (1 + f) + 0.05, `Dice ${d} against ${(2 * f) / (1 + f)} for all-building`);
});

tensorTest('bfloat16 prediction: the held-out Dice within 0.005 of float32, probabilities close; bad precision refused', async () => {
  const ds = await data.open(KAVRE);
  const fp32 = createPredictor(MODEL, { window: 256, device: 'cpu' });
  const bf16 = createPredictor(MODEL, { window: 256, device: 'cpu', precision: 'bfloat16' });
  const counts = { fp32: [0, 0], bf16: [0, 0] };
  let worst = 0;
  try {
    assert.equal(bf16.precision, 'bfloat16');
    assert.equal(fp32.precision, 'float32');
    for (let i = 0; i < ds.length; i++) {
      const { image, mask } = await ds.get(i);
      torch.tidy(() => {
        const t = mask.eq(1);
        const [a, b] = [fp32.probabilities(image), bf16.probabilities(image)];
        assert.equal(b.dtype, 'float32');
        worst = Math.max(worst, a.sub(b).abs().max().item());
        for (const [k, p] of [
          ['fp32', a],
          ['bf16', b],
        ] as const) {
          const m = p.select(0, 0).gt(fp32.threshold);
          counts[k][0]! += 2 * m.logicalAnd(t).sum().item();
          counts[k][1]! += m.sum().item() + t.sum().item();
        }
      });
      torch.dispose([image, mask]);
    }
    assert.throws(
      () => createPredictor(MODEL, { precision: 'float16' as never }),
      /Predictor: precision must be 'float32' or 'bfloat16', got 'float16'/,
    );
  } finally {
    fp32.dispose();
    bf16.dispose();
  }
  const [d32, d16] = [counts.fp32[0]! / counts.fp32[1]!, counts.bf16[0]! / counts.bf16[1]!];
  assert.ok(Math.abs(d32 - d16) <= 0.005, `Dice ${d32} in float32, ${d16} in bfloat16`);
  // bfloat16 keeps 8 bits of mantissa: measured here, Dice 0.5711 -> 0.5684 and the largest probability
  // change 0.105 (a few boundary pixels); a class flip would show as a change near 1.
  assert.ok(worst > 0 && worst < 0.15, `largest probability difference ${worst}`);
});

tensorTest('TTA over D4 makes the prediction equivariant; flips average four passes', async () => {
  const ds = await data.open(KAVRE);
  const { image, mask } = await ds.get(5);
  const d4 = createPredictor(MODEL, { tta: 'd4', window: 256, device: 'cpu' });
  try {
    torch.tidy(() => {
      const p = d4.probabilities(image);
      for (const [name, f] of [
        ['rot90', (t: Tensor) => t.rot90(1, [1, 2])],
        ['transpose', (t: Tensor) => t.transpose(1, 2)],
        ['hflip', (t: Tensor) => t.flip([2])],
      ] as const) {
        const q = d4.probabilities(f(image).contiguous());
        const diff = q.sub(f(p)).abs().max().item();
        assert.ok(diff < 1e-5, `${name}: max |Δp| ${diff}`);
      }
    });
  } finally {
    d4.dispose();
    torch.dispose([image, mask]);
  }
});

tensorTest('an ensemble is the mean of its members; mismatched members and bad input are refused', async () => {
  const ds = await data.open(KAVRE);
  const { image, mask } = await ds.get(2);
  const shipped = loadTrained(MODEL);
  torch.manualSeed(0);
  const other = {
    model: createModel('unet', { encoderName: 'resnet18', encoderDepth: 3, decoderChannels: [32, 16, 8], classes: 1 }),
    predict: shipped.predict,
  };
  const both = new Predictor([shipped, other], { window: 256, device: 'cpu' });
  const grey = torch.tidy(() => image.narrow(0, 0, 1));
  const one = new Predictor(shipped, { window: 256, device: 'cpu' });
  const two = new Predictor(other, { window: 256, device: 'cpu' });
  try {
    torch.tidy(() => {
      const mean = one.probabilities(image).add(two.probabilities(image)).div(2);
      assert.ok(both.probabilities(image).sub(mean).abs().max().item() < 1e-6);
    });
    assert.throws(
      () => one.probabilities(grey),
      /Predictor\.probabilities: image must be a Tensor of 3 band\(s\) \[3, height, width\], as the model was trained on, got 'shape \[1,256,256\]'/,
    );
    assert.throws(
      () => new Predictor([shipped, { ...other, predict: { ...shipped.predict, classes: ['a', 'b', 'c'] } }]),
      /Predictor: models\[1\] must be a model with the classes and normalisation of models\[0\]/,
    );
    assert.throws(() => new Predictor(shipped, { window: 100 }), /Predictor: window must be a multiple of 32, got 100/);
    assert.throws(() => new Predictor(shipped, { tta: 'd8' as never }), /Predictor: tta must be one of 'none', 'flips', 'd4'/);
    assert.throws(() => new Predictor(shipped, { device: 'cuda:7' }), /Predictor: device must be/);
    assert.throws(() => createPredictor([]), /createPredictor: checkpoints must be a checkpoint path or an array of them/);
  } finally {
    shipped.model.dispose();
    other.model.dispose();
    torch.dispose([image, mask, grey]);
  }
});

tensorTest('checkpoints of another model, another format version or bare weights are refused before any prediction', async () => {
  const { loadSafetensors, loadSafetensorsMetadata, saveSafetensors } = await import('../src/torch/serialization/index.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'segkit-bad-ckpt-'));
  const tensors = loadSafetensors(MODEL);
  const meta = loadSafetensorsMetadata(MODEL);
  try {
    const other = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, v.replace('"architecture":"unet"', '"architecture":"fpn"')]));
    saveSafetensors(join(dir, 'fpn.safetensors'), tensors, { metadata: other });
    saveSafetensors(join(dir, 'v2.safetensors'), tensors, { metadata: { ...meta, format_version: '2' } });
    saveSafetensors(join(dir, 'bare.safetensors'), tensors);
  } finally {
    torch.dispose(Object.values(tensors));
  }
  assert.throws(
    () => createPredictor(join(dir, 'fpn.safetensors')),
    /Error\(s\) in loading state dict for FPN:\n {2}missing keys: decoder\.p5\.weight/,
  );
  assert.throws(() => createPredictor(join(dir, 'v2.safetensors')), /is checkpoint format version 2; this segkit reads version 1/);
  assert.throws(
    () => createPredictor(join(dir, 'bare.safetensors')),
    /is not a segkit checkpoint .*for bare weights use torch\.loadSafetensors/,
  );
});

tensorTest("evaluate's TTA scores what the predictor's TTA predicts", async () => {
  const ds = await data.open(KAVRE);
  const { model, predict } = loadTrained(MODEL);
  const predictor = createPredictor(MODEL, { tta: 'flips', window: 256, device: 'cpu' });
  try {
    const norm = predict.normalization!;
    const loader = new data.DataLoader(new data.Subset(ds, [0, 1, 2, 3, 4, 5]), {
      batchSize: 3,
      transform: new data.Normalize({ mean: norm.mean, std: norm.std }),
    });
    const plain = await evaluate(model, loader, {});
    const flips = await evaluate(model, loader, { tta: 'flips' });
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < 6; i++) {
      const { image, mask } = await ds.get(i);
      torch.tidy(() => {
        const p = predictor.mask(image).ne(0);
        const t = mask.eq(1);
        tp += p.logicalAnd(t).sum().item();
        fp += p.logicalAnd(t.logicalNot()).sum().item();
      });
      torch.dispose([image, mask]);
    }
    // The same probabilities up to float rounding: a pixel may sit on the threshold.
    assert.ok(
      Math.abs(flips.confusion.tp - tp) <= 3 && Math.abs(flips.confusion.fp - fp) <= 3,
      `${JSON.stringify(flips.confusion)} vs tp ${tp} fp ${fp}`,
    );
    assert.notDeepEqual(flips.confusion, plain.confusion);
    assert.equal(flips.images, 6);
    await assert.rejects(evaluate(model, loader, { tta: 'd8' as never }), /evaluate: tta must be one of 'none', 'flips', 'd4'/);
  } finally {
    predictor.dispose();
    model.dispose();
  }
});
