// Does adversarial training (Luc et al. 2016) help on these buildings? The same U-Net, seeds,
// data and epochs trained with and without the adversarial term, each scored afterwards on
// Kavre, the region no run sees: Dice, IoU, object F1 (SpaceNet) and boundary F (DAVIS, 2 px),
// per seed, then mean and spread (sample standard deviation) per arm and the paired differences.
// Usage: node bench/adversarial.mjs   (after `npm run build`)
//   SEGKIT_BENCH_SEEDS (default 0,1,2), SEGKIT_BENCH_EPOCHS (default 30),
//   SEGKIT_BENCH_ADVERSARIAL (default product), SEGKIT_BENCH_WEIGHT (lambda, default 0.1),
//   SEGKIT_BENCH_DISCRIMINATOR (default largefov), SEGKIT_BENCH_THREADS (default 2),
//   SEGKIT_BENCH_OUT (default a temporary folder: the run folders, and results.jsonl; run again
//   with the same folder, a bench goes on where it stopped: the runs in results.jsonl are kept)
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data, loadTrained, metrics, torch, train, Trainer } from '../dist/index.js';
import { printMachine, printTable } from './common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REGIONS = join(ROOT, 'data', 'demo', 'regions');
const SEEDS = (process.env.SEGKIT_BENCH_SEEDS ?? '0,1,2').split(',').map(Number);
const EPOCHS = Number(process.env.SEGKIT_BENCH_EPOCHS ?? 30);
const ENCODING = process.env.SEGKIT_BENCH_ADVERSARIAL ?? 'product';
const WEIGHT = Number(process.env.SEGKIT_BENCH_WEIGHT ?? 0.1);
const DESIGN = process.env.SEGKIT_BENCH_DISCRIMINATOR ?? 'largefov';
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? 2);
const OUT = process.env.SEGKIT_BENCH_OUT ?? mkdtempSync(join(tmpdir(), 'segkit-adversarial-'));
mkdirSync(OUT, { recursive: true });

/** The run: three regions' zoom-21 tiles (a fifth held for validation), 128 px crops, 8 a batch. */
const config = (seed, adversarial) => ({
  name: adversarial ? `adversarial-${seed}` : `plain-${seed}`,
  seed,
  threads: THREADS,
  device: 'cpu',
  model: { architecture: 'unet', encoderName: 'resnet18', encoderWeights: null, classes: 1 },
  data: {
    train: ['catanduanes', 'zanzibar', 'nairobi'].map((r) => join(REGIONS, r)),
    split: { valFraction: 0.2, seed: 0 },
    batchSize: 8,
    normalization: 'imagenet',
  },
  augment: [{ name: 'RandomCrop', height: 128, width: 128 }, { name: 'D4' }],
  loss: {
    terms: [
      { name: 'dice', weight: 1 },
      { name: 'bce', weight: 1 },
    ],
  },
  optimizer: { name: 'adamw', lr: 0.002, weightDecay: 0.0001 },
  scheduler: { name: 'cosine', warmupEpochs: 1, interval: 'step' },
  epochs: EPOCHS,
  monitor: 'dice',
  adversarial: adversarial ? { encoding: ENCODING, weight: WEIGHT, discriminator: DESIGN } : null,
});

/** Kavre: evaluate()'s scores and the mean boundary F over its tiles. */
async function scoreOnKavre(checkpoint) {
  const { model } = loadTrained(checkpoint);
  try {
    const kavre = await data.open(join(REGIONS, 'kavre'));
    const loader = () => new data.DataLoader(kavre, { batchSize: 8, transform: new data.Normalize() });
    const m = await train.evaluate(model, loader());
    let fSum = 0;
    let images = 0;
    model.eval();
    for await (const { image, mask } of loader()) {
      torch.tidy(() => {
        const pred = torch.noGrad(() => model.forward(image).sigmoid().ge(0.5).squeeze(1));
        const n = image.shape[0];
        fSum += metrics.boundaryFScore(pred, mask, { tolerance: 2 }).f * n;
        images += n;
      });
      torch.dispose([image, mask]);
    }
    return { dice: m.dice, iou: m.iou, objectF1: m.objectF1, boundaryF: fSum / images, images: m.images };
  } finally {
    model.dispose();
  }
}

printMachine(
  `adversarial training on the demo regions, held out: Kavre; ${EPOCHS} epochs, seeds ${SEEDS.join(',')}, ${ENCODING} x ${WEIGHT} (${DESIGN})`,
);
console.log(`run folders and results.jsonl: ${OUT}`);
const RESULTS = join(OUT, 'results.jsonl');
const done = existsSync(RESULTS)
  ? readFileSync(RESULTS, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
const results = [];
for (const seed of SEEDS)
  for (const adversarial of [false, true]) {
    const c = config(seed, adversarial);
    const earlier = done.find((r) => r.arm === (adversarial ? 'adversarial' : 'plain') && r.seed === seed);
    if (earlier) {
      results.push(earlier);
      console.log(`${c.name}: kept from ${RESULTS}`);
      continue;
    }
    const runDir = join(OUT, c.name);
    // A run cut short earlier starts again from its beginning.
    rmSync(runDir, { recursive: true, force: true });
    const built = await train.buildRun(c, { runDir });
    let fit;
    try {
      fit = await new Trainer({ ...built.trainerOptions, report: false }).fit();
    } finally {
      built.dispose();
    }
    const scores = await scoreOnKavre(join(runDir, 'best.safetensors'));
    const last = fit.history.at(-1);
    const r = {
      arm: adversarial ? 'adversarial' : 'plain',
      seed,
      bestEpoch: fit.best?.epoch,
      valDice: fit.best?.value,
      minutes: fit.seconds / 60,
      discriminatorAccuracy: last?.adversarial?.discriminatorAccuracy,
      ...scores,
    };
    results.push(r);
    appendFileSync(RESULTS, `${JSON.stringify(r)}\n`);
    console.log(JSON.stringify(r));
  }

const f = (v, d = 4) => (v === undefined || v === null ? '-' : v.toFixed(d));
printTable(
  ['arm', 'seed', 'best epoch', 'val Dice', 'Kavre Dice', 'IoU', 'object F1', 'boundary F', 'D acc', 'minutes'],
  results.map((r) => [
    r.arm,
    r.seed,
    r.bestEpoch,
    f(r.valDice),
    f(r.dice),
    f(r.iou),
    f(r.objectF1),
    f(r.boundaryF),
    f(r.discriminatorAccuracy, 2),
    f(r.minutes, 1),
  ]),
);
const KEYS = ['dice', 'iou', 'objectF1', 'boundaryF'];
const stats = (values) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return `${mean.toFixed(4)} ± ${sd.toFixed(4)}`;
};
const arm = (name) => results.filter((r) => r.arm === name);
const diffs = (k) =>
  SEEDS.map(
    (s) => results.find((r) => r.arm === 'adversarial' && r.seed === s)[k] - results.find((r) => r.arm === 'plain' && r.seed === s)[k],
  );
printTable(
  ['Kavre (mean ± sd over seeds)', ...KEYS],
  [
    ['plain', ...KEYS.map((k) => stats(arm('plain').map((r) => r[k])))],
    [`adversarial (${ENCODING}, lambda ${WEIGHT})`, ...KEYS.map((k) => stats(arm('adversarial').map((r) => r[k])))],
    ['paired difference', ...KEYS.map((k) => stats(diffs(k)))],
  ],
);
