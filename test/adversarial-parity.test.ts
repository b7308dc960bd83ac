// Adversarial training (Luc et al. 2016) against PyTorch 1.13: three alternating steps of
// segkit's real Trainer (adversary step, then the segmenter's loss plus lambda times the flipped
// adversarial term through the updated adversary) on four real 32x32 Catanduanes crops, a tiny
// conv segmenter and the 'largefov' (product encoding, one pre-training step) and 'stanford'
// (scaling encoding) adversaries, from the weights of scripts/fixtures/make_adversarial_fixtures.py
// (fixture: test/fixtures/adversarial/adversarial.{safetensors,json}). Checked: the step events'
// losses (per step, running means, the adversary's accuracy, the pre-training flag), the
// segmenter's final weights, the adversary's final weights (sampled elements and whole-tensor
// statistics of the update: its 1.7-2.3 M parameters are too many to store), and no tensor left alive.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, nn, F, optim, type Tensor } from '../src/index.js';
import { createDiscriminator, type Discriminator, type Encoding } from '../src/models/discriminators/index.js';
import { Trainer } from '../src/train/index.js';
import type { StepEvent } from '../src/train/events.js';
import type { TrainLoader } from '../src/train/options.js';
import { FIXTURES, assertClose, maxAbsDiff, tensorTest } from './helpers.js';

interface Case {
  design: string;
  encoding: Encoding;
  weight: number;
  tau: number;
  pretrain: number;
  lr: number;
  d_keys: { key: string; offset: number; shape: number[] }[];
}
const DIR = join(FIXTURES, 'adversarial');
// Adam's update divides by the gradient's own scale, so rounding-level differences in near-zero
// gradients become steps of lr: this comparison at 1e-4 with PyTorch's direct convolution runs
// libtorch's convolution, not segkit's default Winograd kernels (test/conv-winograd.test.ts).
torch.backends.winograd.enabled = false;
const fixture = torch.loadSafetensors(join(DIR, 'adversarial.safetensors'));
const J = JSON.parse(readFileSync(join(DIR, 'adversarial.json'), 'utf8')) as { batches: number[][]; cases: Record<string, Case> };
after(() => torch.dispose(fixture));

function fx(name: string): Tensor {
  const t = fixture[name];
  if (t === undefined)
    throw new Error(`adversarial.safetensors has no tensor "${name}" (re-run scripts/fixtures/make_adversarial_fixtures.py)`);
  return t;
}
const numbers = (name: string): number[] => Array.from(fx(name).toArray() as ArrayLike<number | bigint>, Number);

/** Weights: 1e-5 absolute + 1e-5 relative (both networks' weights are O(0.01-0.5), Adam moves them 1e-3 a step). */
const ATOL = 1e-5;
const RTOL = 1e-5;
/** Losses are O(1) float32 batch means: 1e-5 absolute. */
const LOSS_TOL = 1e-5;

const SEG_KEYS = ['0.weight', '0.bias', '2.weight', '2.bias'];

/** The fixture's segmenter: conv 3->8 3x3, ReLU, conv 8->1 1x1, from PyTorch's manual_seed(0) init. */
function segmenter(): nn.Sequential {
  const s = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(8, 1, 1));
  assert.deepEqual(Object.keys(s.stateDict()), SEG_KEYS);
  s.loadStateDict(Object.fromEntries(SEG_KEYS.map((k) => [k, fx(`seg.init.${k}`)])));
  return s;
}

/**
 * The adversary's initial weights as the fixture script sets them: all parameters end to end in
 * state-dict order are the stored base vector tiled, each tensor times its float32 1/sqrt(fan_in).
 */
function initialAdversary(name: string, c: Case): Record<string, Tensor> {
  const base = fx('d.base');
  const P = base.shape[0]!;
  return torch.tidy(() =>
    Object.fromEntries(
      c.d_keys.map((k, i) => {
        const n = k.shape.reduce((a, b) => a * b, 1);
        const idx = torch.arange(k.offset, k.offset + n, 1, { dtype: 'int64' }).remainder(P);
        return [
          k.key,
          base
            .indexSelect(0, idx)
            .mul(fx(`${name}.d.scale`).select(0, i))
            .view(k.shape),
        ];
      }),
    ),
  );
}

/** The fixture's three batches ([0, 1], [2, 3], [0, 1]) as a loader: float32 images, int64 0/1 masks, as segkit's DataLoader yields. */
function loader(): TrainLoader {
  return {
    length: J.batches.length,
    batchSize: 2,
    async *[Symbol.asyncIterator]() {
      for (const b of J.batches) {
        yield torch.tidy(() => {
          const idx = torch.tensor(b, { dtype: 'int64' });
          return { image: fx('data.image').indexSelect(0, idx), mask: fx('data.mask').indexSelect(0, idx), meta: [] };
        });
      }
    },
  };
}

const runningMeans = (v: number[]): number[] => v.map((_, i) => v.slice(0, i + 1).reduce((a, b) => a + b, 0) / (i + 1));
/** The per-step values behind running means m_i: (i + 1) m_i - i m_(i-1). */
const perStep = (m: number[]): number[] => m.map((x, i) => (i === 0 ? x : (i + 1) * x - i * m[i - 1]!));

function close(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} steps, expected ${expected.length}`);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - expected[i]!) <= tol,
      `${what}, step ${i + 1}: ${a} vs PyTorch ${expected[i]} (|diff| ${Math.abs(a - expected[i]!)})`,
    ),
  );
}

function checkEvents(name: string, c: Case, steps: StepEvent[]): void {
  const segLoss = numbers(`${name}.seg_loss`);
  const advLoss = numbers(`${name}.adv_loss`);
  const dLoss = numbers(`${name}.d_loss`);
  const correct = numbers(`${name}.d_correct`);
  assert.equal(steps.length, segLoss.length, `${name}: step events`);
  assert.deepEqual(
    steps.map((e) => e.adversarial?.pretraining),
    segLoss.map((_, i) => i < c.pretrain),
    `${name}: the pre-training flag`,
  );
  // `loss` is the batch's own; runningLoss and the adversarial numbers are means over the epoch so far.
  close(
    steps.map((e) => e.loss),
    segLoss,
    LOSS_TOL,
    `${name}: segmentation loss`,
  );
  close(
    steps.map((e) => e.runningLoss),
    runningMeans(segLoss),
    LOSS_TOL,
    `${name}: running segmentation loss`,
  );
  const adv = steps.map((e) => e.adversarial!.loss);
  const dl = steps.map((e) => e.adversarial!.discriminatorLoss);
  close(adv, runningMeans(advLoss), LOSS_TOL, `${name}: running adversarial loss`);
  close(dl, runningMeans(dLoss), LOSS_TOL, `${name}: running discriminator loss`);
  close(perStep(adv), advLoss, LOSS_TOL, `${name}: adversarial loss per step`);
  close(perStep(dl), dLoss, LOSS_TOL, `${name}: discriminator loss per step`);
  // Accuracy: of the 2N = 4 maps per batch, how many the adversary classed right, so far.
  let sum = 0;
  const accuracy = correct.map((n, i) => {
    sum += n;
    return sum / (4 * (i + 1));
  });
  assert.deepEqual(
    steps.map((e) => e.adversarial!.discriminatorAccuracy),
    accuracy,
    `${name}: running discriminator accuracy (PyTorch's correct counts ${correct})`,
  );
}

function checkAdversary(name: string, D: Discriminator, initial: Record<string, Tensor>): void {
  const sd = D.stateDict();
  for (const [key, p] of Object.entries(sd)) {
    torch.tidy(() => {
      const flat = p.detach().reshape([-1]);
      assertClose(
        flat.indexSelect(0, fx(`${name}.d.idx.${key}`)),
        fx(`${name}.d.final.${key}`),
        ATOL,
        RTOL,
        `${name}: adversary ${key} (sampled)`,
      );
      // The whole update final - initial: sum |delta|, its L2 norm, max |delta|.
      const delta = flat.double().sub(initial[key]!.reshape([-1]).double());
      const ours = torch.stack([delta.abs().sum(), delta.square().sum().sqrt(), delta.abs().max()]);
      assertClose(ours, fx(`${name}.d.stats.${key}`), 1e-7, 1e-4, `${name}: adversary ${key} update [sum |d|, |d|_2, max |d|]`);
    });
  }
}

for (const name of Object.keys(J.cases)) {
  const c = J.cases[name]!;
  tensorTest(
    `${name}: ${c.design} (${c.encoding}), lambda ${c.weight}, pretrainSteps ${c.pretrain}: 3 Trainer steps = PyTorch's`,
    async () => {
      const seg = segmenter();
      const D = createDiscriminator(c.design, { encoding: c.encoding, classes: 1, inChannels: 3 });
      assert.deepEqual(
        Object.keys(D.stateDict()),
        c.d_keys.map((k) => k.key),
        `${name}: the adversary's state-dict keys`,
      );
      const initial = initialAdversary(name, c);
      D.loadStateDict(initial);
      const segOpt = new optim.Adam(seg.parameters(), { lr: c.lr });
      const dOpt = new optim.Adam(D.parameters(), { lr: c.lr });
      const steps: StepEvent[] = [];
      try {
        const result = await new Trainer({
          model: seg,
          train: loader(),
          loss: (p, t) => F.binaryCrossEntropyWithLogits(p, t),
          optimizer: segOpt,
          epochs: 1,
          report: false,
          adversarial: { discriminator: D, optimizer: dOpt, weight: c.weight, tau: c.tau, pretrainSteps: c.pretrain },
          onEvent: (e) => {
            if (e.type === 'step') steps.push(e);
          },
        }).fit();
        assert.equal(result.reason, 'completed');
        assert.equal(result.step, J.batches.length);
        checkEvents(name, c, steps);
        const sd = seg.stateDict();
        for (const k of SEG_KEYS) assertClose(sd[k]!, fx(`${name}.seg.final.${k}`), ATOL, RTOL, `${name}: segmenter ${k}`);
        checkAdversary(name, D, initial);
      } finally {
        segOpt.dispose();
        dOpt.dispose();
        seg.dispose();
        D.dispose();
        torch.dispose(Object.values(initial));
      }
    },
  );
}

// A guard on the fixture itself: the segmenter moved (so its final check means something), and
// with pre-training the first step leaves it where it was in PyTorch too.
tensorTest('the fixture: both networks moved, and the pre-trained run started its segmenter one batch later', () => {
  for (const name of Object.keys(J.cases))
    for (const k of SEG_KEYS) assert.ok(maxAbsDiff(fx(`${name}.seg.final.${k}`), fx(`seg.init.${k}`)) > 1e-4, `${name}: ${k} did not move`);
  const [a, b] = Object.keys(J.cases) as [string, string];
  const [la, lb] = [numbers(`${a}.seg_loss`), numbers(`${b}.seg_loss`)];
  assert.equal(la[0], lb[0], 'the same first batch from the same weights');
  assert.notEqual(la[1], lb[1], 'one segmenter stepped after batch 1, the other did not');
});
