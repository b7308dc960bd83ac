// segkit side of train-step.mjs: one process per (mode, threads); prints one JSON line with the
// step times (ms), peak RSS and page faults. Usage: node train-step-worker.mjs MODE THREADS WARMUP ITERS
import { torch, nn, F } from '../dist/index.js';

const [mode, threads, warmup, iters] = [process.argv[2], ...process.argv.slice(3).map(Number)];
torch.setNumThreads(threads);
torch.manualSeed(0);

/** torchvision's BasicBlock. */
class BasicBlock extends nn.Module {
  constructor(cin, cout, stride) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(cout));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(cout));
    this.downsample = this.registerModule(
      'downsample',
      stride !== 1 || cin !== cout
        ? new nn.Sequential(new nn.Conv2d(cin, cout, 1, { stride, bias: false }), new nn.BatchNorm2d(cout))
        : null,
    );
  }
  forward(x) {
    const h = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return h.add(this.downsample ? this.downsample.forward(x) : x).relu();
  }
}

class Net extends nn.Module {
  constructor() {
    super();
    this.stem = this.registerModule(
      'stem',
      new nn.Sequential(new nn.Conv2d(3, 32, 3, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(32), new nn.ReLU()),
    );
    this.layers = this.registerModule(
      'layers',
      new nn.Sequential(new BasicBlock(32, 32, 1), new BasicBlock(32, 64, 2), new BasicBlock(64, 64, 1)),
    );
    this.head = this.registerModule('head', new nn.Conv2d(64, 1, 1));
  }
  forward(x) {
    return F.interpolate(this.head.forward(this.layers.forward(this.stem.forward(x))), {
      scaleFactor: 4,
      mode: 'bilinear',
      alignCorners: false,
    });
  }
}

const model = new Net();
let x = torch.randn([4, 3, 128, 128]);
const y = torch.tidy(() => torch.rand([4, 1, 128, 128]).gt(0.5).float());
if (mode === 'channels_last') {
  model.to({ memoryFormat: 'channelsLast' });
  const cl = x.contiguous({ memoryFormat: 'channelsLast' });
  x.dispose();
  x = cl;
}
const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });

function step() {
  return torch.tidy(() => {
    opt.zeroGrad();
    const out = mode === 'bf16' ? torch.autocast({ dtype: 'bfloat16' }, () => model.forward(x)) : model.forward(x);
    const loss = F.binaryCrossEntropyWithLogits(out.float(), y);
    loss.backward();
    opt.step();
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
model.dispose();
opt.dispose();
torch.dispose([x, y]);
