// segkit side of train.mjs, one process per run so that each allocator setting starts from
// glibc's own state: the Trainer on TilesDataset (decode + rasterise per sample) with flips, a
// random crop and ImageNet normalisation, U-Net resnet18, DiceLoss, AdamW. Prints one JSON line
// with each step's time and loader wait (from the trainer's step events), its epoch events' totals
// and the peak RSS.
// Usage: node bench/train-worker.mjs <tiles.json> <allocatorCache bytes> <epochs> <threads> <batch> <crop>
import { readFileSync } from 'node:fs';
import { Trainer, createModel, data, losses, torch } from '../dist/index.js';

const [tilesFile, cache, epochs, threads, batch, crop] = [process.argv[2], ...process.argv.slice(3).map(Number)];
const { root, tiles } = JSON.parse(readFileSync(tilesFile, 'utf8'));
const ds = await data.TilesDataset.open(root);
const index = new Map(Array.from({ length: ds.length }, (_, i) => [ds.metaAt(i).name, i]));
const subset = new data.Subset(
  ds,
  tiles.map((t) => index.get(t)),
);
const loader = new data.DataLoader(subset, {
  batchSize: batch,
  shuffle: true,
  seed: 0,
  transform: new data.Compose([
    new data.HorizontalFlip({ p: 0.5 }),
    new data.VerticalFlip({ p: 0.5 }),
    new data.RandomCrop({ height: crop, width: crop }),
    new data.Normalize(),
  ]),
});
torch.setNumThreads(threads);
torch.manualSeed(0);
const model = createModel('unet', { encoderName: 'resnet18', classes: 1 });
const optimizer = new torch.optim.AdamW(model.parameters(), { lr: 1e-3 });
const steps = [];
const trainer = new Trainer({
  model,
  train: loader,
  loss: new losses.DiceLoss('binary'),
  optimizer,
  epochs,
  threads,
  allocatorCache: cache,
  onEvent: (e) => {
    if (e.type === 'step') steps.push({ images: e.images, seconds: e.seconds, dataSeconds: e.dataSeconds });
  },
});
const result = await trainer.fit();
const epochsOut = result.history.map((e) => ({ images: e.images, seconds: e.seconds, dataWaitFraction: e.dataWaitFraction }));
console.log(
  JSON.stringify({ steps, epochs: epochsOut, lastLoss: result.history.at(-1).trainLoss, maxRssMb: process.resourceUsage().maxRSS / 1024 }),
);
model.dispose();
optimizer.dispose();
