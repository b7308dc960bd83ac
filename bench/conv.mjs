// conv2d forward+backward (4x64x128x128 input, 64x64x3x3 weight, padding 1, bias), segkit vs
// PyTorch at 1 and 2 threads. A PyTorch worker process and this one take turns, ROUNDS times,
// ITERS timed iterations each. This VM's speed drifts by 10-30% over seconds, so the headline
// ratio pairs each round's best segkit time with the adjacent PyTorch one and takes the median
// of those paired ratios; the ratio of overall bests is printed beside it.
import { torch, F } from '../dist/index.js';
import { nowNs, printMachine, printPythonInfo, printTable, report, startPython } from './common.mjs';

const WARMUP = 1;
const ITERS = 3;
const ROUNDS = 16;
const GOAL = 1.05;
// forward 2*N*Cout*H*W*Cin*kh*kw, backward (weight grad only: the input needs no grad) the same again
const GFLOP = (2 * 2 * 4 * 64 * 128 * 128 * 64 * 9) / 1e9;

torch.manualSeed(0);
const x = torch.randn([4, 64, 128, 128]);
const w = torch.tidy(() => torch.randn([64, 64, 3, 3]).mul(0.05)).requiresGrad_();
const b = torch.zeros([64], { requiresGrad: true });

function step() {
  torch.tidy(() => {
    const out = F.conv2d(x, w, { bias: b, padding: 1 });
    out.sum().backward();
  });
  w.grad = null;
  b.grad = null;
}

function timesMs() {
  for (let i = 0; i < WARMUP; i++) step();
  const times = [];
  for (let i = 0; i < ITERS; i++) {
    const t0 = nowNs();
    step();
    times.push((nowNs() - t0) / 1e6);
  }
  return times;
}

printMachine('conv2d 4x64x128x128 * 64x64x3x3 (pad 1, bias), forward + backward, ms');
console.log(
  `${ROUNDS} alternating rounds (PyTorch, then segkit) of ${WARMUP} warm-up + ${ITERS} timed iterations; ${GFLOP.toFixed(2)} GFLOP/iteration`,
);
const js = { 1: [], 2: [] };
const py = { 1: [], 2: [] };
const paired = { 1: [], 2: [] };
const python = startPython('torch_conv.py');
let pyInfo;
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of [1, 2]) {
    const r = await python.ask(threads, WARMUP, ITERS);
    pyInfo = r.info;
    py[threads].push(...r.ms);
    torch.setNumThreads(threads);
    const mine = timesMs();
    js[threads].push(...mine);
    paired[threads].push(Math.min(...mine) / Math.min(...r.ms));
  }
}
await python.close();
printPythonInfo(pyInfo);

const best = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const rows = [];
for (const threads of [1, 2]) {
  const [s, p] = [best(js[threads]), best(py[threads])];
  const ratio = median(paired[threads]);
  const gflops = (ms) => (GFLOP / (ms / 1e3)).toFixed(0);
  rows.push([
    threads,
    s.toFixed(1),
    p.toFixed(1),
    `${median(js[threads]).toFixed(1)} / ${median(py[threads]).toFixed(1)}`,
    `${gflops(s)} / ${gflops(p)}`,
    `${(s / p).toFixed(3)}x`,
    `${ratio.toFixed(3)}x`,
    ratio <= GOAL ? 'ok' : 'SLOW',
  ]);
  const label = process.env.SEGKIT_BENCH_LABEL ? ` (${process.env.SEGKIT_BENCH_LABEL})` : '';
  report(
    'conv',
    `conv2d fwd+bwd @${threads}t${label}`,
    `${s.toFixed(1)} ms vs ${p.toFixed(1)} ms; paired median ${ratio.toFixed(3)}x`,
    `<= ${GOAL}x`,
    ratio <= GOAL,
  );
}
printTable(
  [
    'threads',
    'segkit best ms',
    'PyTorch best ms',
    'median segkit / PyTorch',
    'GFLOP/s segkit / PyTorch',
    'ratio of bests',
    'paired median ratio',
    `goal <= ${GOAL}x`,
  ],
  rows,
  0,
);
torch.dispose([x, w, b]);
