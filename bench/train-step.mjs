// Training step of a small ResNet-style net in nn modules (stem, three torchvision BasicBlocks,
// 1x1 head, bilinear upsampling, BCE, optim.SGD with momentum) at 4x3x128x128: fp32 NCHW,
// channels_last and bf16 autocast, segkit vs PyTorch, with the peak RSS of each. Every (side, mode) runs in its own process so peak RSS
// is its own; the sides alternate over ROUNDS rounds and the ratio is the median of the paired
// per-round ratios (this VM drifts by 10-30%).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON, printMachine, printTable, report } from './common.mjs';

const ROUNDS = 3;
const WARMUP = 3;
const ITERS = 8;
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? 2);
const MODES = ['fp32', 'channels_last', 'bf16'];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

printMachine(`train step: ResNet-style net, 4x3x128x128, ${THREADS} threads, ms per step`);
const res = Object.fromEntries(MODES.map((m) => [m, { js: [], py: [], paired: [], jsRss: 0, pyRss: 0, jsFaults: [], pyFaults: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    const args = [mode, THREADS, WARMUP, ITERS].map(String);
    const py = run(PYTHON, [fileURLToPath(new URL('torch_train_step.py', import.meta.url)), ...args]);
    const js = run(process.execPath, [fileURLToPath(new URL('train-step-worker.mjs', import.meta.url)), ...args]);
    const r = res[mode];
    r.js.push(...js.ms);
    r.py.push(...py.ms);
    r.paired.push(Math.min(...js.ms) / Math.min(...py.ms));
    r.jsRss = Math.max(r.jsRss, js.maxRssMb);
    r.jsFaults.push(js.faultsPerStep);
    r.pyFaults.push(py.faultsPerStep);
    r.pyRss = Math.max(r.pyRss, py.maxRssMb);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = MODES.map((mode) => {
  const r = res[mode];
  const ratio = median(r.paired);
  const label = process.env.SEGKIT_BENCH_LABEL ? ` (${process.env.SEGKIT_BENCH_LABEL})` : '';
  report(
    'train-step',
    `${mode} step @${THREADS}t${label}`,
    `${Math.min(...r.js).toFixed(1)} ms vs ${Math.min(...r.py).toFixed(1)} ms; paired median ${ratio.toFixed(3)}x; peak RSS ${r.jsRss.toFixed(0)} vs ${r.pyRss.toFixed(0)} MB`,
    '<= 1.05x',
    ratio <= 1.05,
  );
  return [
    mode,
    Math.min(...r.js).toFixed(1),
    Math.min(...r.py).toFixed(1),
    `${ratio.toFixed(3)}x`,
    r.jsRss.toFixed(0),
    r.pyRss.toFixed(0),
    `${median(r.jsFaults).toFixed(0)} / ${median(r.pyFaults).toFixed(0)}`,
  ];
});
printTable(
  [
    'mode',
    'segkit best ms',
    'PyTorch best ms',
    'paired median ratio',
    'segkit peak RSS MB',
    'PyTorch peak RSS MB',
    'page faults/step segkit / PyTorch',
  ],
  rows,
  1,
);
const speedup = (m) => (Math.min(...res.fp32.js) / Math.min(...res[m].js)).toFixed(2);
console.log(`segkit speed-up over fp32 NCHW: channels_last ${speedup('channels_last')}x, bf16 autocast ${speedup('bf16')}x`);
