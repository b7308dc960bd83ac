// segkit side of train-step.mjs: one process per (mode, threads); prints one JSON line with the
// step times (ms) and the peak RSS. Usage: node train-step-worker.mjs MODE THREADS WARMUP ITERS
import { torch, F } from '../dist/index.js';

const [mode, threads, warmup, iters] = [process.argv[2], ...process.argv.slice(3).map(Number)];
torch.setNumThreads(threads);
torch.manualSeed(0);
const fmt = mode === 'channels_last' ? 'channelsLast' : 'contiguous';

const convW = (cout, cin, k) => torch.tidy(() => torch.randn([cout, cin, k, k]).mul(Math.sqrt(2 / (cin * k * k))).contiguous({ memoryFormat: fmt })).requiresGrad_();
const bn = (c) => [torch.ones([c], { requiresGrad: true }), torch.zeros([c], { requiresGrad: true }), torch.zeros([c]), torch.ones([c])];
const P = { stem: convW(32, 3, 3), stem_bn: bn(32) };
for (const [name, cin, cout] of [['b1', 32, 32], ['b2', 32, 64], ['b3', 64, 64]]) {
  P[name] = [convW(cout, cin, 3), bn(cout), convW(cout, cout, 3), bn(cout)];
  if (cin !== cout) P[name].push(convW(cout, cin, 1), bn(cout));
}
P.head = convW(1, 64, 1);
const params = Object.values(P).flat(2).filter((t) => t.requiresGrad);

const bnf = (x, b) => F.batchNorm(x, b[2], b[3], { weight: b[0], bias: b[1], training: true });
function block(x, b) {
  const stride = b.length > 4 ? 2 : 1;
  let h = bnf(F.conv2d(x, b[0], { stride, padding: 1 }), b[1]).relu();
  h = bnf(F.conv2d(h, b[2], { padding: 1 }), b[3]);
  const skip = b.length > 4 ? bnf(F.conv2d(x, b[4], { stride: 2 }), b[5]) : x;
  return h.add(skip).relu();
}
function forward(x) {
  let h = bnf(F.conv2d(x, P.stem, { stride: 2, padding: 1 }), P.stem_bn).relu();
  for (const name of ['b1', 'b2', 'b3']) h = block(h, P[name]);
  return F.interpolate(F.conv2d(h, P.head), { scaleFactor: 4, mode: 'bilinear', alignCorners: false });
}

const x = torch.tidy(() => torch.randn([4, 3, 128, 128]).contiguous({ memoryFormat: fmt }));
const y = torch.tidy(() => torch.rand([4, 1, 128, 128]).gt(0.5).float());

function step() {
  return torch.tidy(() => {
    const out = mode === 'bf16' ? torch.autocast({ dtype: 'bfloat16' }, () => forward(x)) : forward(x);
    const loss = F.binaryCrossEntropyWithLogits(out.float(), y);
    loss.backward();
    torch.noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad, { alpha: 0.01 });
        p.grad = null;
      }
    });
    return loss.item();
  });
}

for (let i = 0; i < warmup; i++) step();
const ms = [];
const faults0 = process.resourceUsage().minorPageFault;
for (let i = 0; i < iters; i++) {
  const t0 = process.hrtime.bigint();
  step();
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const faultsPerStep = (process.resourceUsage().minorPageFault - faults0) / iters;
console.log(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, faultsPerStep }));
torch.dispose([x, y, P]);
