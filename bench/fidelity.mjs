// Fidelity against PyTorch: the same recipe trained by segkit's Trainer and by a plain PyTorch
// loop on smp's own Unet, from the same initial weights on the same batches, must give the same
// losses step by step and the same held-out Dice. Recipe: U-Net resnet18 (random init, 1 class)
// on data/demo/regions, 16 tiles from each of catanduanes, zanzibar and nairobi (interleaved, a
// fixed order, no shuffle, no augmentation), validated on all 40 kavre tiles; full 256x256 tiles,
// batch 8, ImageNet normalisation, smp's DiceLoss('binary') on logits, AdamW (lr 1e-3, weight
// decay 1e-2), cosine schedule stepped per batch, EPOCHS epochs, the same thread count both sides.
// segkit writes its initial state dict and the exact batches its DataLoader produced (decoded,
// rasterised, normalised) to safetensors; bench/torch_fidelity.py loads both, so decoding and
// rasterising differences do not count; it also compares segkit's trained weights with its own,
// entry by entry. Exits non-zero when the first 10 losses differ by more
// than 1e-4 or the final Dice by more than 0.01.
// Usage: node bench/fidelity.mjs   (after `npm run build`; for smp's source see bench/torch_fidelity.py:
// SMP_SRC, .smp-src or the git mirror at SMP_MIRROR; without any, a rewrite of smp's Unet stands in)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Trainer, createModel, data, losses, torch } from '../dist/index.js';
import { PYTHON, printMachine, printPythonInfo, printTable, report } from './common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REGIONS = join(ROOT, 'data/demo/regions');
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? 2);
const EPOCHS = Number(process.env.SEGKIT_BENCH_EPOCHS ?? 4);
const PER_REGION = 16;
const TRAIN_REGIONS = ['catanduanes', 'zanzibar', 'nairobi'];
const VAL_REGION = 'kavre';
const BATCH = 8;
const LR = 1e-3;
const WEIGHT_DECAY = 1e-2;
const FIRST = 10;
const LOSS_GOAL = 1e-4;
const DICE_GOAL = 0.01;
/** The fixed tile lists: PER_REGION tiles spread evenly over each training region, interleaved; all of the held-out one. */
function pickTiles(ds) {
  const byRegion = new Map();
  for (let i = 0; i < ds.length; i++) {
    const m = ds.metaAt(i);
    if (!byRegion.has(m.group)) byRegion.set(m.group, []);
    byRegion.get(m.group).push({ index: i, name: m.name });
  }
  const sorted = (r) => {
    const list = byRegion.get(r);
    if (!list) throw new Error(`${REGIONS} has no region ${r}`);
    return [...list].sort((a, b) => (a.name < b.name ? -1 : 1));
  };
  const picks = TRAIN_REGIONS.map((r) => {
    const list = sorted(r);
    return Array.from({ length: PER_REGION }, (_, j) => list[Math.floor((j * list.length) / PER_REGION)]);
  });
  const train = [];
  for (let j = 0; j < PER_REGION; j++) for (const p of picks) train.push(p[j]);
  return { train, val: sorted(VAL_REGION) };
}

/** Every batch of one pass over `loader`, as segkit produced it, under `prefix.<b>.image|mask`. */
async function dumpBatches(loader, prefix, into) {
  let b = 0;
  for await (const batch of loader) {
    into[`${prefix}.${b}.image`] = batch.image;
    into[`${prefix}.${b}.mask`] = batch.mask;
    b += 1;
  }
  return b;
}

printMachine(`fidelity: segkit Trainer vs PyTorch + smp, U-Net resnet18, ${EPOCHS} epochs, ${THREADS} threads`);
torch.setNumThreads(THREADS);
const work = mkdtempSync(join(tmpdir(), 'segkit-bench-fidelity-'));
try {
  const ds = await data.TilesDataset.open(REGIONS);
  const tiles = pickTiles(ds);
  const loader = (list) =>
    new data.DataLoader(
      new data.Subset(
        ds,
        list.map((t) => t.index),
      ),
      { batchSize: BATCH, transform: new data.Normalize() },
    );
  const trainLoader = loader(tiles.train);
  const valLoader = loader(tiles.val);

  /** @type {Record<string, import('../dist/index.js').Tensor>} */
  const batches = {};
  const trainBatches = await dumpBatches(trainLoader, 'train', batches);
  const valBatches = await dumpBatches(valLoader, 'val', batches);
  torch.saveSafetensors(join(work, 'batches.safetensors'), batches);
  torch.dispose(Object.values(batches));

  torch.manualSeed(0);
  const model = createModel('unet', { encoderName: 'resnet18', classes: 1 });
  torch.saveSafetensors(join(work, 'init.safetensors'), model.stateDict());
  const tMax = EPOCHS * trainLoader.length;
  const recipe = {
    threads: THREADS,
    epochs: EPOCHS,
    lr: LR,
    weightDecay: WEIGHT_DECAY,
    tMax,
    trainBatches,
    valBatches,
    train: tiles.train.map((t) => t.name),
    val: tiles.val.map((t) => t.name),
  };
  writeFileSync(join(work, 'recipe.json'), JSON.stringify(recipe, null, 1));

  const optimizer = new torch.optim.AdamW(model.parameters(), { lr: LR, weightDecay: WEIGHT_DECAY });
  const scheduler = new torch.optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax });
  const steps = [];
  const trainer = new Trainer({
    model,
    train: trainLoader,
    val: valLoader,
    loss: new losses.DiceLoss('binary'),
    optimizer,
    scheduler,
    schedulerInterval: 'step',
    epochs: EPOCHS,
    validateEvery: EPOCHS,
    threads: THREADS,
    onEvent: (e) => {
      if (e.type === 'step') steps.push(e);
    },
  });
  const result = await trainer.fit();
  const last = result.history.at(-1);
  const ours = {
    losses: steps.map((s) => s.loss),
    lrs: steps.map((s) => s.lr),
    dice: last.validation.dice,
    confusion: last.validation.confusion,
    trainSeconds: result.history.reduce((s, e) => s + e.seconds, 0),
  };
  torch.saveSafetensors(join(work, 'final.safetensors'), model.stateDict());
  model.dispose();
  optimizer.dispose();

  const r = spawnSync(PYTHON, [join(ROOT, 'bench/torch_fidelity.py'), work], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`bench/torch_fidelity.py failed (exit ${r.status})`);
  const py = JSON.parse(r.stdout.trim().split('\n').at(-1));
  printPythonInfo(py.info);
  console.log(`PyTorch model: ${py.source}`);
  console.log(
    `data: ${tiles.train.length} training tiles (${TRAIN_REGIONS.join(', ')}), ${tiles.val.length} held-out (${VAL_REGION}), ${trainBatches} batches of ${BATCH} per epoch\n`,
  );
  if (py.losses.length !== ours.losses.length) throw new Error(`segkit trained ${ours.losses.length} steps, PyTorch ${py.losses.length}`);

  const delta = ours.losses.map((v, i) => Math.abs(v - py.losses[i]));
  printTable(
    ['step', 'epoch', 'segkit loss', 'PyTorch loss', '|Δ loss|', 'segkit lr', 'PyTorch lr'],
    ours.losses.map((v, i) => [
      i + 1,
      steps[i].epoch,
      v.toFixed(8),
      py.losses[i].toFixed(8),
      delta[i].toExponential(2),
      ours.lrs[i].toExponential(6),
      py.lrs[i].toExponential(6),
    ]),
    0,
  );
  const maxOf = (xs) => xs.reduce((a, b) => Math.max(a, b), 0);
  const first = delta[0];
  const firstN = maxOf(delta.slice(0, FIRST));
  const all = maxOf(delta);
  const lrDelta = maxOf(ours.lrs.map((v, i) => Math.abs(v - py.lrs[i])));
  const diceDelta = Math.abs(ours.dice - py.dice);
  console.log('');
  printTable(
    ['check', 'segkit', 'PyTorch', 'difference', 'goal'],
    [
      ['step 1 loss', ours.losses[0].toFixed(8), py.losses[0].toFixed(8), first.toExponential(2), '~1e-6'],
      [`max |Δ loss|, steps 1-${FIRST}`, '', '', firstN.toExponential(2), `<= ${LOSS_GOAL}`],
      [`max |Δ loss|, all ${delta.length} steps`, '', '', all.toExponential(2), 'report'],
      ['max |Δ lr|', '', '', lrDelta.toExponential(2), 'report'],
      [
        `trained weights: max |Δ|, entries differing of ${py.weights}`,
        '',
        '',
        `${py.weightDelta.toExponential(2)}, ${py.weightsDiffering}`,
        'report',
      ],
      [`held-out Dice (${VAL_REGION})`, ours.dice.toFixed(5), py.dice.toFixed(5), diceDelta.toFixed(5), `<= ${DICE_GOAL}`],
      [
        'held-out tp / fp / fn',
        `${ours.confusion.tp} / ${ours.confusion.fp} / ${ours.confusion.fn}`,
        `${py.confusion.tp} / ${py.confusion.fp} / ${py.confusion.fn}`,
        '',
        '',
      ],
      [
        'training seconds',
        ours.trainSeconds.toFixed(1),
        py.trainSeconds.toFixed(1),
        `${(ours.trainSeconds / py.trainSeconds).toFixed(2)}x`,
        '',
      ],
    ],
  );
  console.log(
    all === 0 && py.weightsDiffering === 0
      ? '(bit-identical: every loss and every trained weight; both sides ran the same libtorch kernels on the same threads)'
      : '(float32 sums are not associative: later steps may drift by rounding; the first step shows whether the two compute the same thing)',
  );
  report('fidelity', `max |Δ loss| steps 1-${FIRST}`, firstN.toExponential(2), `<= ${LOSS_GOAL}`, firstN <= LOSS_GOAL);
  report('fidelity', `max |Δ loss| all ${delta.length} steps`, all.toExponential(2), 'report', true);
  report('fidelity', 'trained weights max |Δ|', py.weightDelta.toExponential(2), 'report', true);
  report(
    'fidelity',
    `held-out Dice ${ours.dice.toFixed(4)} vs ${py.dice.toFixed(4)}`,
    diceDelta.toFixed(5),
    `<= ${DICE_GOAL}`,
    diceDelta <= DICE_GOAL,
  );
  if (!(firstN <= LOSS_GOAL && diceDelta <= DICE_GOAL)) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
