// Time per call of each loss's forward + backward (with respect to yPred), segkit vs smp's own
// loss classes under PyTorch, at 8x1x256x256 (binary) and 8x6x256x256 (multiclass and
// multilabel), float32. The PyTorch worker and this process take turns, case by case, ROUNDS
// times; each turn is the best of REPS calls after one warm-up call, and the best turn counts.
// Both sides draw their inputs from libtorch's generator with the same seed, so they see the same
// tensors (the loss values are printed side by side as a check). Needs smp's losses package
// under SMP_SRC (see bench/torch_losses.py). Usage: node bench/losses.mjs [filter]
import { torch } from '../dist/index.js';
import {
  DiceLoss,
  FocalLoss,
  JaccardLoss,
  LovaszLoss,
  MCCLoss,
  SoftBCEWithLogitsLoss,
  SoftCrossEntropyLoss,
  TverskyLoss,
} from '../dist/losses/index.js';
import { nowNs, printMachine, printPythonInfo, printTable, report, startPython } from './common.mjs';

const ROUNDS = 2;
const REPS = 5;
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? torch.getNumThreads());
const BIN = [8, 1, 256, 256];
const MULTI = [8, 6, 256, 256];

// [label, smp class, mode, smp options (snake_case), shape, target kind]
/** @type {[string, string, string | null, Record<string, unknown>, number[], string][]} */
const CASES = [
  ['DiceLoss binary', 'DiceLoss', 'binary', {}, BIN, 'binary'],
  ['JaccardLoss binary', 'JaccardLoss', 'binary', {}, BIN, 'binary'],
  ['TverskyLoss binary', 'TverskyLoss', 'binary', { alpha: 0.3, beta: 0.7 }, BIN, 'binary'],
  ['FocalLoss binary', 'FocalLoss', 'binary', {}, BIN, 'binary'],
  ['LovaszLoss binary', 'LovaszLoss', 'binary', {}, BIN, 'binary'],
  ['LovaszLoss binary perImage', 'LovaszLoss', 'binary', { per_image: true }, BIN, 'binary'],
  ['SoftBCEWithLogitsLoss', 'SoftBCEWithLogitsLoss', null, {}, BIN, 'binary'],
  // smp's MCCLoss takes probabilities: its input is sigmoid(randn) on both sides.
  ['MCCLoss', 'MCCLoss', null, {}, BIN, 'binary-probs'],
  ['DiceLoss multiclass', 'DiceLoss', 'multiclass', {}, MULTI, 'multiclass'],
  ['DiceLoss multiclass ignore', 'DiceLoss', 'multiclass', { ignore_index: 5 }, MULTI, 'multiclass'],
  ['JaccardLoss multiclass', 'JaccardLoss', 'multiclass', {}, MULTI, 'multiclass'],
  ['TverskyLoss multiclass', 'TverskyLoss', 'multiclass', { alpha: 0.3, beta: 0.7 }, MULTI, 'multiclass'],
  ['FocalLoss multiclass', 'FocalLoss', 'multiclass', {}, MULTI, 'multiclass'],
  ['LovaszLoss multiclass', 'LovaszLoss', 'multiclass', {}, MULTI, 'multiclass'],
  ['SoftCrossEntropyLoss', 'SoftCrossEntropyLoss', null, { smooth_factor: 0.1 }, MULTI, 'multiclass'],
  ['DiceLoss multilabel', 'DiceLoss', 'multilabel', {}, MULTI, 'multilabel'],
  ['FocalLoss multilabel', 'FocalLoss', 'multilabel', {}, MULTI, 'multilabel'],
  ['LovaszLoss multilabel', 'LovaszLoss', 'multilabel', {}, MULTI, 'multilabel'],
];

const CLASSES = { DiceLoss, FocalLoss, JaccardLoss, LovaszLoss, MCCLoss, SoftBCEWithLogitsLoss, SoftCrossEntropyLoss, TverskyLoss };
const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

function build(cls, mode, options) {
  const o = Object.fromEntries(Object.entries(options).map(([k, v]) => [camel(k), v]));
  const Loss = CLASSES[cls];
  return mode === null ? new Loss(o) : new Loss(mode, o);
}

/** The same tensors as bench/torch_losses.py: libtorch's generator, seeded alike, in the same order. */
function inputs(shape, target) {
  torch.manualSeed(0);
  const logits = torch.randn(shape);
  const x = target === 'binary-probs' ? torch.tidy(() => logits.sigmoid()) : logits;
  if (x !== logits) logits.dispose();
  const [n, c, h, w] = shape;
  const y = target === 'multiclass' ? torch.randint(0, c, [n, h, w]) : torch.tidy(() => torch.rand(shape).lt(0.3).float());
  return [x, y];
}

function bestMs(loss, x, y) {
  const once = () =>
    torch.tidy(() => {
      const p = x.detach().requiresGrad_();
      loss.forward(p, y).backward();
    });
  once();
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = nowNs();
    once();
    best = Math.min(best, nowNs() - t0);
  }
  return best / 1e6;
}

const filter = process.argv[2] ?? '';
const selected = CASES.filter(([label]) => label.includes(filter));
torch.setNumThreads(THREADS);
printMachine(`losses: forward + backward per call, float32, ${THREADS} threads, ms`);
console.log(`best of ${REPS} calls x ${ROUNDS} alternating rounds (PyTorch + smp, then segkit); others may share this machine's cores`);
const py = startPython('torch_losses.py');
const best = new Map();
let pyInfo = null;
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, cls, mode, options, shape, target] of selected) {
    const answer = await py.ask(JSON.stringify({ threads: THREADS, reps: REPS, case: { cls, mode, options, shape, target } }));
    pyInfo = answer.info;
    const loss = build(cls, mode, options);
    const [x, y] = inputs(shape, target);
    const value = torch.tidy(() => loss.forward(x, y).item());
    const ms = bestMs(loss, x, y);
    torch.dispose([x, y]);
    loss.dispose();
    const prev = best.get(label) ?? { js: Infinity, py: Infinity };
    best.set(label, { js: Math.min(prev.js, ms), py: Math.min(prev.py, answer.ms), value, pyValue: answer.value, shape });
  }
}
await py.close();
if (pyInfo) printPythonInfo(pyInfo);
const rows = selected.map(([label]) => {
  const r = best.get(label);
  const ratio = r.js / r.py;
  report(
    'losses',
    `${label} ${r.shape.join('x')}`,
    `${r.js.toFixed(1)} ms vs ${r.py.toFixed(1)} ms (${ratio.toFixed(2)}x)`,
    '<= 1.2x',
    ratio <= 1.2,
  );
  return [
    label,
    r.shape.join('x'),
    r.js.toFixed(1),
    r.py.toFixed(1),
    `${ratio.toFixed(2)}x`,
    r.value.toPrecision(7),
    r.pyValue === null ? 'not finite' : r.pyValue.toPrecision(7),
  ];
});
printTable(['loss', 'shape', 'segkit ms', 'smp ms', 'ratio', 'segkit value', 'smp value'], rows, 2);
