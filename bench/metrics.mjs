// metrics: the cost of metrics.Accumulator.update per validation batch (8x1x256x256 binary,
// 8x6x256x256 multilabel and multiclass), with and without the CPU object and boundary scores,
// and the CPU mask tools alone on a 512x512 building mask. Where smp's source is at hand
// (SMP_SRC, default .smp-src), PyTorch runs smp's get_stats + iou_score on the same sizes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { torch, F, metrics } from '../dist/index.js';
import { PYTHON, nowNs, printMachine, printTable, report } from './common.mjs';

const WARMUP = 3;
const RUNS = 15;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMP_SRC = process.env.SMP_SRC ?? `${ROOT}.smp-src`;

/** [median, best] in ms over RUNS runs after WARMUP: on a shared machine the best is the steadier one. */
function timeMs(fn) {
  for (let i = 0; i < WARMUP; i++) fn();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = nowNs();
    fn();
    times.push((nowNs() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return [times[RUNS >> 1], times[0]];
}

torch.manualSeed(0);
const probs1 = torch.rand([8, 1, 256, 256]);
const mask1 = torch.rand([8, 1, 256, 256]).gt(0.5).long();
// building-like masks for the CPU scores: blobs from a blurred noise field
const blobs = torch.tidy(() =>
  F.avgPool2d(torch.rand([8, 1, 256, 256]), 9, { stride: 1, padding: 4 })
    .gt(0.52)
    .long(),
);
const blobProbs = torch.tidy(() =>
  blobs
    .float()
    .mul(0.6)
    .add(torch.rand([8, 1, 256, 256]).mul(0.3)),
);
const probs6 = torch.rand([8, 6, 256, 256]);
const mask6 = torch.rand([8, 6, 256, 256]).gt(0.5).long();
const classes6 = torch.randint(0, 6, [8, 256, 256]);
const target6 = torch.randint(0, 6, [8, 256, 256]);

/** @type {[string, import("../dist/metrics/index.js").AccumulatorOptions, import("../dist/index.js").Tensor, import("../dist/index.js").Tensor][]} */
const CASES = [
  ['binary 8x1x256x256: iouScore, f1Score (micro)', { mode: 'binary', threshold: 0.5 }, probs1, mask1],
  [
    'binary 8x1x256x256: + imagewise, tianchiScore',
    {
      mode: 'binary',
      threshold: 0.5,
      scores: ['iouScore', { score: 'iouScore', name: 'iw', reduction: 'micro-imagewise' }, 'tianchiScore'],
    },
    probs1,
    mask1,
  ],
  [
    'binary 8x1x256x256 blobs: + objectScore, boundaryFScore',
    { mode: 'binary', threshold: 0.5, scores: ['iouScore', 'tianchiScore', 'objectScore', 'boundaryFScore'] },
    blobProbs,
    blobs,
  ],
  ['multilabel 8x6x256x256: iouScore, f1Score (micro)', { mode: 'multilabel', threshold: 0.5 }, probs6, mask6],
  [
    'multiclass 8x256x256, 6 classes: iouScore, f1Score (macro-imagewise)',
    { mode: 'multiclass', numClasses: 6, reduction: 'macro-imagewise' },
    classes6,
    target6,
  ],
];

printMachine('metrics: Accumulator.update per validation batch');
const rows = [];
for (const [name, options, output, target] of CASES) {
  const acc = new metrics.Accumulator(options);
  const [median, best] = timeMs(() => acc.update(output, target));
  acc.compute();
  rows.push([name, median.toFixed(2), best.toFixed(2)]);
  report('metrics', `update ${name} (ms, median)`, median.toFixed(2), 'n/a', true);
}
printTable(['Accumulator.update', 'median ms', 'best ms'], rows);

// The CPU loops alone, on a real 512x512 building mask (the SpaceNet 4 sample's truth, cropped).
const png = (file) => decode(readFileSync(new URL(`../test/fixtures/metrics/${file}`, import.meta.url)));
const crop = (img) => {
  const out = new Uint8Array(512 * 512);
  for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) out[y * 512 + x] = img.data[y * img.width + x] > 127 ? 1 : 0;
  return out;
};
const truth = crop(png('truth.png'));
const pred = crop(png('pred.png'));
const noise = Uint8Array.from({ length: 512 * 512 }, (_, i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1 > 0 ? 1 : 0));
const cpu = [
  ['connectedComponents 512x512 buildings, 4-conn', () => metrics.connectedComponents(truth, 512, 512)],
  ['connectedComponents 512x512 buildings, 8-conn', () => metrics.connectedComponents(truth, 512, 512, { connectivity: 8 })],
  ['connectedComponents 512x512 50% noise, 8-conn', () => metrics.connectedComponents(noise, 512, 512, { connectivity: 8 })],
  ['boundaryMap 512x512', () => metrics.boundaryMap(truth, 512, 512)],
  ['matchObjects 512x512 (2 labellings + matching)', () => metrics.matchObjects(pred, truth, 512, 512)],
  ['matchBoundaries 512x512, tolerance 2', () => metrics.matchBoundaries(pred, truth, 512, 512)],
];
printTable(
  ['CPU mask tool', 'median ms', 'best ms'],
  cpu.map(([name, fn]) => {
    const [median, best] = timeMs(fn);
    report('metrics', `${name} (ms, median)`, median.toFixed(2), 'n/a', true);
    return [name, median.toFixed(2), best.toFixed(2)];
  }),
);
torch.dispose([probs1, mask1, blobs, blobProbs, probs6, mask6, classes6, target6]);

// smp on PyTorch, same sizes: get_stats + iou_score, median of the same runs.
const functional = `${SMP_SRC}/segmentation_models_pytorch/metrics/functional.py`;
if (!existsSync(functional)) {
  console.log(`(no smp source at ${SMP_SRC}: set SMP_SRC to compare with smp's get_stats on PyTorch)`);
} else {
  const py = `
import importlib.util, time, torch
spec = importlib.util.spec_from_file_location('f', ${JSON.stringify(functional)}); F = importlib.util.module_from_spec(spec); spec.loader.exec_module(F)
torch.manual_seed(0)
def med(fn):
    for _ in range(${WARMUP}): fn()
    ts = []
    for _ in range(${RUNS}):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return f'{ts[${RUNS >> 1}]:.2f} (best {ts[0]:.2f})'
p1, m1 = torch.rand(8, 1, 256, 256), (torch.rand(8, 1, 256, 256) > 0.5).long()
p6, m6 = torch.rand(8, 6, 256, 256), (torch.rand(8, 6, 256, 256) > 0.5).long()
c6, t6 = torch.randint(0, 6, (8, 256, 256)), torch.randint(0, 6, (8, 256, 256))
def run(o, t, **kw):
    tp, fp, fn, tn = F.get_stats(o, t, **kw); F.iou_score(tp, fp, fn, tn, reduction='micro')
print(f'binary 8x1x256x256: {med(lambda: run(p1, m1, mode="binary", threshold=0.5))}')
print(f'multilabel 8x6x256x256: {med(lambda: run(p6, m6, mode="multilabel", threshold=0.5))}')
print(f'multiclass 8x256x256, 6 classes: {med(lambda: run(c6, t6, mode="multiclass", num_classes=6))}')
print(f'threads {torch.get_num_threads()}')
`;
  const r = spawnSync(PYTHON, ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) console.log(`(smp on PyTorch failed: ${r.stderr.trim().split('\n').pop()})`);
  else {
    console.log(`smp get_stats + iou_score on PyTorch (${PYTHON}), ms/batch:`);
    for (const line of r.stdout.trim().split('\n')) console.log(`  ${line}`);
  }
}
