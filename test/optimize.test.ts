// Inference optimisation: BatchNorm folded into the convolution before it (nn.foldBatchNorms),
// model.optimizeForInference, and the predictor that uses it by default. Every architecture is
// also checked by the model harness (test/model-harness.ts).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torch, nn, createModel, data, type Tensor } from '../src/index.js';
import { Predictor, createPredictor } from '../src/infer/predictor.js';
import { loadTrained } from '../src/train/load.js';
import { assertThrows, tensorTest } from './helpers.js';
import { randomizeBatchNorms } from './model-harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(ROOT, 'models', 'buildings', 'model.safetensors');

const rel = (a: Tensor, b: Tensor) => torch.tidy(() => a.sub(b).abs().max().item() / b.abs().max().item());
/** The relative error foldBatchNorms reports: L2 norm of the difference over the reference's. */
const l2rel = (a: Tensor, b: Tensor) =>
  torch.tidy(() => Math.sqrt(a.double().sub(b.double()).square().sum().item() / b.double().square().sum().item()));

tensorTest('conv -> BatchNorm folds to the hand-computed weights and bias; the BatchNorm becomes the identity', () => {
  const conv = new nn.Conv2d(1, 2, 1, { bias: true });
  const bn = new nn.BatchNorm2d(2, { eps: 0 });
  const net = new nn.Sequential(conv, bn);
  torch.tidy(() =>
    torch.noGrad(() => {
      conv.weight.copy_(torch.tensor([2, -1]).reshape([2, 1, 1, 1]));
      conv.bias!.copy_(torch.tensor([1, 0.5]));
      bn.runningMean!.copy_(torch.tensor([3, -1]));
      bn.runningVar!.copy_(torch.tensor([4, 0.25]));
      bn.weight!.copy_(torch.tensor([0.5, 2]));
      bn.bias!.copy_(torch.tensor([0.1, -0.2]));
    }),
  );
  const x = torch.tensor([[[[1, -2]]]]);
  net.eval();
  try {
    const before = torch.tidy(() => torch.noGrad(() => net.forward(x)));
    const r = nn.foldBatchNorms(net, x);
    assert.deepEqual({ folded: r.folded, kept: r.kept }, { folded: 1, kept: 0 });
    // scale = gamma / sqrt(var): 0.5 / 2 = 0.25 and 2 / 0.5 = 4; bias' = (b - mean) * scale + beta.
    assert.deepEqual(Array.from(conv.weight.toArray() as Float32Array), [0.5, -4]);
    assert.deepEqual(
      Array.from(conv.bias!.toArray() as Float32Array, (v) => +v.toFixed(6)),
      [(1 - 3) * 0.25 + 0.1, (0.5 + 1) * 4 - 0.2].map((v) => +v.toFixed(6)),
    );
    const after = torch.tidy(() => torch.noGrad(() => net.forward(x)));
    assert.ok(rel(after, before) < 1e-6, 'the same output, to float rounding');
    torch.tidy(() => assert.ok(torch.equal(bn.forward(x), x), 'the folded BatchNorm passes its input through'));
    torch.dispose([before, after]);
  } finally {
    x.dispose();
    net.dispose();
  }
});

class ReluFirst extends nn.Module {
  conv = this.registerModule('conv', new nn.Conv2d(3, 4, 3, { padding: 1 }));
  bn = this.registerModule('bn', new nn.BatchNorm2d(4));
  forward(x: Tensor): Tensor {
    // relu_ changes the conv's output in place before the BatchNorm sees it: not foldable.
    return this.bn.forward(this.conv.forward(x).relu_());
  }
}

class Shared extends nn.Module {
  conv = this.registerModule('conv', new nn.Conv2d(3, 4, 3, { padding: 1 }));
  bnA = this.registerModule('bn_a', new nn.BatchNorm2d(4));
  bnB = this.registerModule('bn_b', new nn.BatchNorm2d(4));
  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this.bnA.forward(y).add(this.bnB.forward(y));
  }
}

tensorTest('a fold that would change the output is refused and undone; a conv feeding two BatchNorms is kept', () => {
  torch.manualSeed(0);
  const bad = new ReluFirst();
  const shared = new Shared();
  const up = new nn.Sequential(new nn.ConvTranspose2d(3, 4, 2, { stride: 2 }), new nn.BatchNorm2d(4));
  for (const m of [bad, shared, up]) randomizeBatchNorms(m);
  const x = torch.randn([2, 3, 8, 8]);
  try {
    bad.eval();
    const before = torch.tidy(() => torch.noGrad(() => bad.forward(x)));
    const weight = torch.tidy(() => bad.conv.weight.clone());
    assert.throws(
      () => nn.foldBatchNorms(bad, x),
      /foldBatchNorms: the folded model's output differs from the original by .* \(relative\), more than 0\.0001; the model is left as it was/,
    );
    torch.tidy(() => {
      assert.ok(torch.equal(bad.forward(x), before), 'the model is exactly as it was');
      assert.ok(torch.equal(bad.conv.weight, weight));
    });
    assert.equal(bad.conv.bias !== null, true);
    torch.dispose([before, weight]);

    const s = nn.foldBatchNorms(shared, x);
    assert.deepEqual({ folded: s.folded, kept: s.kept }, { folded: 0, kept: 2 });

    const ref = torch.tidy(() => torch.noGrad(() => up.eval().forward(x)));
    const u = nn.foldBatchNorms(up, x);
    assert.equal(u.folded, 1, 'a transposed convolution folds along its second weight dimension');
    const out = torch.tidy(() => torch.noGrad(() => up.forward(x)));
    assert.ok(rel(out, ref) < 1e-5);
    torch.dispose([ref, out]);
  } finally {
    x.dispose();
    for (const m of [bad, shared, up]) m.dispose();
  }
});

tensorTest('optimizeForInference keeps the RNG, handles the classification head, checks its options', () => {
  torch.manualSeed(3);
  const model = createModel('unet', {
    encoderName: 'resnet18',
    encoderDepth: 3,
    decoderChannels: [32, 16, 8],
    classes: 2,
    auxParams: { classes: 4 },
  });
  randomizeBatchNorms(model);
  model.eval();
  const x = torch.randn([1, 3, 64, 96]);
  try {
    const before = model.predict(x);
    const state = torch.getRngState();
    const r = model.optimizeForInference();
    const state2 = torch.getRngState();
    assert.ok(torch.equal(state, state2), 'the random example leaves the generator where it was');
    assert.equal(r.channelsLast, false);
    assert.ok(r.folded > 0 && r.relativeError < 1e-4);
    const after = model.predict(x);
    assert.ok(l2rel(after.mask, before.mask) < 1e-4 && l2rel(after.label, before.label) < 1e-4, 'mask and label');
    torch.dispose([state, state2, before.mask, before.label, after.mask, after.label]);
    assertThrows(
      () => model.optimizeForInference({ channelsLast: 'yes' as unknown as boolean }),
      TypeError,
      /Unet\.optimizeForInference: channelsLast must be true or false, got 'yes'/,
    );
    assertThrows(
      () => model.optimizeForInference({ example: [1, 2] as unknown as Tensor }),
      TypeError,
      /Unet\.optimizeForInference: example must be a Tensor \(N, C, H, W\)/,
    );
    assertThrows(() => model.optimizeForInference({ fold: true } as never), TypeError, /Unet\.optimizeForInference: unknown option 'fold'/);
  } finally {
    x.dispose();
    model.dispose();
  }
});

tensorTest('createPredictor optimises its model (folded, channels_last): the same probabilities on a real tile', async () => {
  const ds = await data.open(join(ROOT, 'data', 'demo', 'regions', 'kavre'));
  const { image, mask } = await ds.get(0);
  const plain = loadTrained(MODEL);
  const asGiven = new Predictor(plain, { window: 256, device: 'cpu' });
  const optimised = createPredictor(MODEL, { window: 256, device: 'cpu' });
  try {
    const folded = (m: nn.Module) =>
      torch.tidy(() => {
        const bn = m.modules().find((b) => b instanceof nn.BatchNorm2d) as nn.BatchNorm2d;
        const t = torch.ones([1, bn.numFeatures, 2, 2]);
        return bn.forward(t) === t;
      });
    assert.equal(folded(plain.model), false, 'a model passed in is left alone');
    assert.equal(folded(optimised.models[0]!.model), true, 'createPredictor folded its own');
    torch.tidy(() => {
      const a = asGiven.probabilities(image);
      const b = optimised.probabilities(image);
      assert.ok(a.sub(b).abs().max().item() < 1e-4, 'probabilities within 1e-4');
      assert.ok(
        torch.equal(a.gt(0.5), b.gt(0.5)) || a.gt(0.5).ne(b.gt(0.5)).sum().item() < 5,
        'the same mask, a pixel or two at the threshold aside',
      );
    });
  } finally {
    torch.dispose([image, mask]);
    optimised.dispose();
    plain.model.dispose();
  }
});
