// The CUDA path, segkit vs PyTorch in the same run on the same GPU: predict 8x3x512x512 and a
// training step 8x3x256x256 in float32 (TF32 convolutions, both sides' default) and under
// autocast float16. One process per (side, model, round), sides alternating; the ratio is the
// median over rounds of (segkit median / PyTorch median). Needs a CUDA libtorch (see README).
// SEGKIT_BENCH_MODELS picks models (default unet,deeplabv3plus,fpn,pspnet);
// SEGKIT_BENCH_PYTHON the interpreter with CUDA torch (default python3).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printTable } from './common.mjs';

const PY = process.env.SEGKIT_BENCH_PYTHON ?? 'python3';
const ROUNDS = Number(process.env.SEGKIT_BENCH_ROUNDS ?? 2);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
};
const names = (process.env.SEGKIT_BENCH_MODELS ?? 'unet,deeplabv3plus,fpn,pspnet').split(',');
const info = run(PY, [here('torch_cuda.py'), '--info']);
console.log(`cuda: ${info.gpu}, PyTorch ${info.torch} (CUDA ${info.cuda}) vs segkit on the same libtorch build`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
for (const n of names) {
  const js = [];
  const py = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['js', 'py'] : ['py', 'js'];
    for (const s of order) {
      if (s === 'js') js.push(run(process.execPath, [here('cuda-worker.mjs'), n, '3', '10']));
      else py.push(run(PY, [here('torch_cuda.py'), n, '3', '10']));
    }
  }
  if (js[0].params !== py[0].params) throw new Error(`${n}: parameter counts differ (${js[0].params} vs ${py[0].params})`);
  const cell = (k) => {
    const a = median(js.map((o) => median(o[k])));
    const b = median(py.map((o) => median(o[k])));
    const ratio = median(js.map((o, i) => median(o[k]) / median(py[i][k])));
    return [a.toFixed(1), b.toFixed(1), `${ratio.toFixed(3)}x`];
  };
  rows.push([n, ...cell('predictMs'), ...cell('trainMs'), ...cell('ampMs')]);
  console.error(`  ${n} done`);
}
printTable(
  [
    'model',
    'predict 8x512 segkit ms',
    'PyTorch',
    'ratio',
    'train 8x256 fp32 segkit',
    'PyTorch',
    'ratio',
    'train fp16 autocast segkit',
    'PyTorch',
    'ratio',
  ],
  rows,
  1,
);
console.log(
  `median of 10 timed iterations (3 warm-up) per process, ${ROUNDS} rounds per side; ratio = median over rounds of segkit / PyTorch.`,
);
