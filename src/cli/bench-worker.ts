// segkit's side of `segkit bench`: one workload in this process, so its peak RSS and allocator
// state are its own. Usage: node bench-worker.js '<json spec>' -> one JSON line {ms, maxRssMb}.
import { torch, F, createModel, type Tensor } from '../index.js';
import type { BenchSpec } from './bench.js';

function run(spec: BenchSpec): { ms: number[]; maxRssMb: number; stats: ReturnType<typeof torch.cpu.memoryStats> } {
  torch.setNumThreads(spec.threads);
  torch.manualSeed(0);
  const model = createModel(spec.arch, { encoderName: spec.encoder, encoderWeights: null, classes: spec.classes });
  const x = torch.randn([spec.batch, 3, spec.size, spec.size]);
  const ms: number[] = [];
  const time = (fn: () => void) => {
    for (let i = 0; i < spec.warmup + spec.iters; i++) {
      const t0 = performance.now();
      fn();
      if (i >= spec.warmup) ms.push(performance.now() - t0);
    }
  };
  const cast = <T>(fn: () => T): T => (spec.precision === 'bfloat16' ? torch.autocast({ deviceType: 'cpu', dtype: 'bfloat16' }, fn) : fn());
  if (spec.phase === 'predict') {
    model.eval();
    if (spec.optimize) model.optimizeForInference({ channelsLast: spec.optimize === 'fold+channelsLast' });
    time(() => torch.tidy(() => void cast(() => model.predict(x))));
  } else {
    model.train();
    const target = torch.tidy(() => torch.rand([spec.batch, spec.classes, spec.size, spec.size]).gt(0.5).float());
    const opt = new torch.optim.Adam(model.parameters(), { lr: 1e-4, fused: spec.fused === true });
    time(() =>
      torch.tidy(() => {
        opt.zeroGrad();
        const y = cast(() => model.forward(x) as Tensor).float();
        F.binaryCrossEntropyWithLogits(y, target).backward();
        opt.step();
      }),
    );
    opt.dispose();
    target.dispose();
  }
  x.dispose();
  model.dispose();
  return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, stats: torch.cpu.memoryStats() };
}

console.log(JSON.stringify(run(JSON.parse(process.argv[2] ?? '{}') as BenchSpec)));
