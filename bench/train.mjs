// Training throughput: images/s of segkit's Trainer against a PyTorch training loop with a
// DataLoader, on the same tiles and labels, the same model (U-Net resnet18, random init), loss
// (Dice) and optimizer (AdamW), batch 8, flips + 224x224 random crop, THREADS compute threads on
// both sides. segkit runs its real path (TilesDataset: JPEG decode and polygon rasterising per
// sample, batched augmentation) with its allocator cache on (capped at 256 MiB; the default cap is 1 GiB) and off;
// PyTorch reads the same JPEG bytes and the masks segkit rasterised (written as PNG beforehand)
// with PIL, with 0 and 2 loader worker processes, with glibc's allocator tuned the same way
// (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ = 256 MiB) and plain. Also the fraction of
// each run's time spent waiting for batches. Every run is its own process, one at a time, the
// two sides alternating (SEGKIT_BENCH_ROUNDS rounds of the six runs; SEGKIT_BENCH_EPOCHS and
// SEGKIT_BENCH_TILES size each run). Usage: node bench/train.mjs   (after `npm run build`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data } from '../dist/index.js';
import { PYTHON, printMachine, printPythonInfo, printTable, report } from './common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REGIONS = join(ROOT, 'data/demo/regions');
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? 2);
const EPOCHS = Number(process.env.SEGKIT_BENCH_EPOCHS ?? 2);
const PER_REGION = Number(process.env.SEGKIT_BENCH_TILES ?? 96) / 3;
const ROUNDS = Number(process.env.SEGKIT_BENCH_ROUNDS ?? 1);
const TRAIN_REGIONS = ['catanduanes', 'zanzibar', 'nairobi'];
const BATCH = 8;
const CROP = 224;
const CACHE = 256 * 2 ** 20;
const TUNED = { MALLOC_MMAP_THRESHOLD_: String(CACHE), MALLOC_TRIM_THRESHOLD_: String(CACHE) };

function lastJson(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/**
 * One configuration's runs: images/s over the whole run (what a user waits for), images/s of the
 * median full-batch step after each run's first (robust to this shared machine's slow spells, which
 * stretch single steps 2-4x), the data-wait fraction and the peak RSS.
 */
function summarise(label, outs) {
  const steps = outs.flatMap((o) => o.steps);
  const steady = outs.flatMap((o) =>
    o.steps
      .slice(1)
      .filter((st) => st.images === BATCH)
      .map((st) => st.seconds),
  );
  const sum = (k) => steps.reduce((t, st) => t + st[k], 0);
  return {
    label,
    images: sum('images'),
    seconds: sum('seconds'),
    rate: sum('images') / sum('seconds'),
    stepRate: BATCH / median(steady),
    wait: sum('dataSeconds') / sum('seconds'),
    loss: outs.at(-1).lastLoss,
    rss: Math.max(...outs.map((o) => o.maxRssMb)),
  };
}

printMachine(`training throughput: U-Net resnet18, batch ${BATCH}, flips + ${CROP} crop, ${EPOCHS} epochs, ${THREADS} threads`);
const work = mkdtempSync(join(tmpdir(), 'segkit-bench-train-'));
try {
  // The tiles: PER_REGION spread evenly over each training region; one folder both sides can read.
  const ds = await data.TilesDataset.open(REGIONS);
  const tiles = [];
  for (const region of TRAIN_REGIONS) {
    const names = Array.from({ length: ds.length }, (_, i) => ds.metaAt(i))
      .filter((m) => m.group === region)
      .map((m) => m.name)
      .sort();
    for (let j = 0; j < PER_REGION; j++) tiles.push(names[Math.floor((j * names.length) / PER_REGION)]);
  }
  const tilesFile = join(work, 'tiles.json');
  writeFileSync(tilesFile, JSON.stringify({ root: REGIONS, tiles }));
  const folder = join(work, 'folder');
  await data.convertDataset(REGIONS, { to: 'folder', out: folder });

  const segkit = (cache) =>
    lastJson(
      spawnSync(process.execPath, [join(ROOT, 'bench/train-worker.mjs'), tilesFile, ...[cache, EPOCHS, THREADS, BATCH, CROP].map(String)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
      'bench/train-worker.mjs',
    );
  const pytorch = (workers, tuned) => {
    const env = { ...process.env, ...(tuned ? TUNED : {}) };
    const args = [join(ROOT, 'bench/torch_train.py'), folder, tilesFile, ...[EPOCHS, workers, THREADS, BATCH, CROP].map(String)];
    return lastJson(spawnSync(PYTHON, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] }), 'bench/torch_train.py');
  };
  const RUNS = [
    { label: 'segkit Trainer, TilesDataset, allocator cache 256 MiB', run: () => segkit(CACHE) },
    { label: 'PyTorch DataLoader + PIL, 0 workers, malloc tuned', run: () => pytorch(0, true) },
    { label: 'PyTorch DataLoader + PIL, 2 workers, malloc tuned', run: () => pytorch(2, true) },
    { label: 'segkit Trainer, TilesDataset, allocator cache off', run: () => segkit(0) },
    { label: 'PyTorch DataLoader + PIL, 0 workers, malloc plain', run: () => pytorch(0, false) },
    { label: 'PyTorch DataLoader + PIL, 2 workers, malloc plain', run: () => pytorch(2, false) },
  ];
  // One run at a time, the sides alternating, so that drift of this shared machine spreads over both.
  const outs = RUNS.map(() => []);
  for (let round = 0; round < ROUNDS; round++) RUNS.forEach(({ run }, i) => outs[i].push(run()));
  const [ours, py0t, py2t, oursOff, py0, py2] = RUNS.map(({ label }, i) => summarise(label, outs[i]));
  const pyInfo = outs[1][0];
  printPythonInfo(pyInfo.info);
  console.log(`PyTorch model: ${pyInfo.source}`);
  console.log(`data: ${tiles.length} tiles of ${TRAIN_REGIONS.join(', ')}, ${Math.ceil(tiles.length / BATCH)} batches per epoch\n`);

  const ratio = (r, ref) => `${(r.rate / ref.rate).toFixed(2)} / ${(r.stepRate / ref.stepRate).toFixed(2)}`;
  const rows = [
    [ours, py2t, py0t],
    [oursOff, py2, py0],
    [py2t, py2t, py0t],
    [py0t, py2t, py0t],
    [py2, py2, py0],
    [py0, py2, py0],
  ].map(([r, ref2, ref0]) => [
    r.label,
    r.images,
    r.seconds.toFixed(1),
    r.rate.toFixed(2),
    r.stepRate.toFixed(2),
    `${(100 * r.wait).toFixed(1)}%`,
    ratio(r, ref2),
    ratio(r, ref0),
    r.rss.toFixed(0),
    r.loss.toFixed(4),
  ]);
  printTable(
    [
      'run',
      'images',
      's',
      'images/s',
      'median step images/s',
      'data wait',
      'vs PyTorch 2 workers',
      'vs PyTorch 0 workers',
      'peak RSS MB',
      'last epoch loss',
    ],
    rows,
  );
  console.log(
    '(ratios: whole run / median step, against PyTorch with the same allocator setting: segkit cache on with malloc tuned, cache off with plain)',
  );
  const ok = (r, ref) => r.stepRate >= ref.stepRate;
  report('train', 'images/s vs PyTorch 2 workers, both tuned (run / step)', ratio(ours, py2t), '>= 1 (step)', ok(ours, py2t));
  report('train', 'images/s vs PyTorch 2 workers, both plain (run / step)', ratio(oursOff, py2), '>= 1 (step)', ok(oursOff, py2));
  report(
    'train',
    'data-wait fraction, segkit cache on / off',
    `${(100 * ours.wait).toFixed(1)}% / ${(100 * oursOff.wait).toFixed(1)}%`,
    'report',
    true,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
