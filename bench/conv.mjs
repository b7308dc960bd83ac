// conv2d forward+backward (4x64x128x128 input, 64x64x3x3 weight, padding 1, bias), segkit vs
// PyTorch at 1 and 2 threads. Python and JS run alternately, ROUNDS times; best iteration, in ms.
import { torch, F } from '../dist/index.js';
import { nowNs, printMachine, printPythonInfo, printTable, report, runPython } from './common.mjs';

const WARMUP = 2;
const ITERS = 5;
const ROUNDS = 3;
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

function bestMs() {
  for (let i = 0; i < WARMUP; i++) step();
  let best = Infinity;
  for (let i = 0; i < ITERS; i++) {
    const t0 = nowNs();
    step();
    best = Math.min(best, nowNs() - t0);
  }
  return best / 1e6;
}

printMachine('conv2d 4x64x128x128 * 64x64x3x3 (pad 1, bias), forward + backward, ms');
console.log(`best of ${ITERS} iterations (after ${WARMUP} warm-up) x ${ROUNDS} alternating rounds (PyTorch, then segkit); ${GFLOP.toFixed(2)} GFLOP/iteration`);
const js = {};
const py = {};
let pyInfo;
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of [1, 2]) {
    const r = runPython('torch_conv.py', [threads, WARMUP, ITERS]);
    pyInfo = r.info;
    py[threads] = Math.min(py[threads] ?? Infinity, r.ms);
    torch.setNumThreads(threads);
    js[threads] = Math.min(js[threads] ?? Infinity, bestMs());
  }
}
printPythonInfo(pyInfo);

const rows = [];
for (const threads of [1, 2]) {
  const ratio = js[threads] / py[threads];
  const gflops = (ms) => (GFLOP / (ms / 1e3)).toFixed(1);
  rows.push([threads, js[threads].toFixed(1), py[threads].toFixed(1), `${gflops(js[threads])} / ${gflops(py[threads])}`, `${ratio.toFixed(3)}x`, ratio <= GOAL ? 'ok' : 'SLOW']);
  report('conv', `conv2d fwd+bwd @${threads}t`, `${js[threads].toFixed(1)} ms vs ${py[threads].toFixed(1)} ms = ${ratio.toFixed(3)}x`, `<= ${GOAL}x`, ratio <= GOAL);
}
printTable(['threads', 'segkit ms', 'PyTorch ms', 'GFLOP/s segkit / PyTorch', 'ratio', `goal <= ${GOAL}x`], rows);
torch.dispose([x, w, b]);
