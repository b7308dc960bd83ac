// Memory: a 2000-step training loop of a small conv net, each step in torch.tidy. Live native
// tensors must stay constant and RSS flat. RSS climbs a few MB over the first ~1000 steps while
// malloc's arenas and the JS heap settle (a 6000-step run plateaus at +5 MB), so flatness is
// judged from step 1000 to 2000: a leak keeps climbing there, warm-up does not.
import { torch, F } from '../dist/index.js';
import { printMachine, printTable, report } from './common.mjs';

const STEPS = 2000;
const SETTLED = 1000;
const CHECKPOINTS = new Set([1, 100, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
const FLAT_MB = 5;
const LR = 0.1;

printMachine(`rss: ${STEPS} training steps (conv 3->16, relu, conv 16->1, BCE-with-logits, SGD), each in tidy`);
torch.manualSeed(0);
const x = torch.randn([4, 3, 64, 64]);
const y = torch.tidy(() => torch.rand([4, 1, 64, 64]).round());
const init = (shape, fanIn) => torch.tidy(() => torch.randn(shape).mul(1 / Math.sqrt(fanIn))).requiresGrad_();
const w1 = init([16, 3, 3, 3], 27);
const b1 = torch.zeros([16], { requiresGrad: true });
const w2 = init([1, 16, 3, 3], 144);
const b2 = torch.zeros([1], { requiresGrad: true });
const params = [w1, b1, w2, b2];
console.log(`live tensors before the loop: ${torch.liveTensors()}`);

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const rows = [];
const rss = {};
for (let step = 1; step <= STEPS; step++) {
  const loss = torch.tidy(() => {
    const h = F.relu(F.conv2d(x, w1, { bias: b1, padding: 1 }));
    const logits = F.conv2d(h, w2, { bias: b2, padding: 1 });
    const l = F.binaryCrossEntropyWithLogits(logits, y);
    l.backward();
    torch.noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad, { alpha: LR });
        p.grad = null;
      }
    });
    return l.item();
  });
  if (CHECKPOINTS.has(step)) {
    rss[step] = rssMb();
    rows.push([step, loss.toFixed(4), torch.liveTensors(), rss[step].toFixed(1), (process.memoryUsage().heapTotal / 2 ** 20).toFixed(1)]);
  }
}
// RSS moves by a few MB with the JS heap (heapTotal) and malloc's free lists; a leak keeps climbing.
printTable(['step', 'loss', 'liveTensors', 'RSS MB', 'JS heapTotal MB'], rows, 0);
const warmup = rss[SETTLED] - rss[100];
const growth = rss[STEPS] - rss[SETTLED];
const flat = growth < FLAT_MB;
console.log(`RSS step 100 -> ${SETTLED} (warm-up): ${warmup >= 0 ? '+' : ''}${warmup.toFixed(1)} MB`);
console.log(
  `RSS step ${SETTLED} -> ${STEPS}: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB: ${flat ? 'flat' : 'NOT flat'} (goal < ${FLAT_MB} MB)`,
);
report(
  'rss',
  `RSS growth step ${SETTLED}->${STEPS}`,
  `${growth.toFixed(1)} MB (warm-up 100->${SETTLED}: ${warmup.toFixed(1)}), liveTensors ${rows[1][2]} -> ${rows.at(-1)[2]}`,
  `< ${FLAT_MB} MB`,
  flat,
);
torch.dispose([x, y, ...params]);
