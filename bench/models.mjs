// Whole architectures, segkit vs PyTorch in the same run: predict at
// 1x3x512x512 (segkit model.predict(x) vs PyTorch eval() + torch.inference_mode()) and one
// training step at 4x3x256x256 (forward, BCE-with-logits vs a random 0/1 target, backward, SGD
// with momentum), with the peak RSS of each side. The PyTorch side is torchvision's own
// fcn_resnet50 / deeplabv3_resnet50 and same-structure modules (torch_models.py) for the rest;
// a ratio is given only when both sides have the same parameter count. Every (side, model,
// round) runs in its own process so its peak RSS is its own; the sides alternate (which goes
// first flips every round) and the ratio is the median of the per-round ratios of best times.
// Both sides keep freed blocks up to 256 MiB (segkit: torch.setAllocatorCache; PyTorch: the
// same glibc tunables in GLIBC_TUNABLES) so page faults do not swamp the comparison.
// SEGKIT_BENCH_MODELS=unet,fcn picks models; SEGKIT_BENCH_ROUNDS overrides the round count.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PYTHON, printMachine, printPythonInfo, printTable, report } from './common.mjs';
import { SEGKIT_MODELS } from './models-worker.mjs';

const TUNED = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456';
const THREADS = Number(process.env.SEGKIT_BENCH_THREADS ?? 2);
const ROUNDS = Number(process.env.SEGKIT_BENCH_ROUNDS ?? 2);
const WARMUP = 1;
/** Timed iterations [predict, train] and rounds: the big nets (seconds per step) are measured once. */
const PLAN = {
  unet: [3, 2],
  fcn: [2, 1],
  deeplabv3: [2, 1],
  deeplabv3plus: [3, 3],
  pspnet: [3, 3],
  fpn: [3, 3],
  segnet: [1, 1, 1],
  fcn8s: [1, 1, 1],
  'unet-original': [1, 1, 1],
  deeplabv1: [1, 1, 1],
  linknet: [3, 3],
  pan: [3, 3],
  unetplusplus: [2, 2],
  manet: [2, 2],
  refinenet: [1, 1, 1],
  deeplabv2: [1, 1, 1],
  fcn16s: [1, 1, 1],
  fcn32s: [1, 1, 1],
};
const SEGKIT_ONLY_PLAN = [1, 1, 1];
const GOAL = 1.05;

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
function run(cmd, args, env) {
  let r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  if (r.signal === 'SIGSEGV' || r.signal === 'SIGBUS') {
    // A worker killed by SIGSEGV/SIGBUS (for one, the native addon rebuilt under a running bench)
    // is reported and run once more, so one crash does not lose the whole run.
    console.log(`note: ${args[1] ?? args[0]} ${args[0].endsWith('.py') ? 'PyTorch' : 'segkit'} process died of ${r.signal}; retried once`);
    r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  }
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}
/** CPU time (jiffies) spent busy and in total, from /proc/stat. */
function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}
/**
 * This VM is shared: before each measured process, wait (up to 3 minutes) until the other
 * processes leave the CPUs at least 90% idle for half a second, and count the runs that started busy.
 */
let contended = 0;
async function waitIdle() {
  const t0 = Date.now();
  for (;;) {
    const [b0, t0s] = cpuTimes();
    await sleep(500);
    const [b1, t1s] = cpuTimes();
    if ((b1 - b0) / Math.max(1, t1s - t0s) < 0.1) return;
    if (Date.now() - t0 > 180_000) {
      contended++;
      return;
    }
  }
}
const segkit = (args) => run(process.execPath, [here('models-worker.mjs'), ...args], {});
const pytorch = (args) => run(PYTHON, [here('torch_models.py'), ...args], { GLIBC_TUNABLES: TUNED });

printMachine(`models: predict 1x3x512x512, train step 4x3x256x256 (BCE, SGD momentum), ${THREADS} threads, fp32`);
const pyInfo = run(PYTHON, [here('torch_models.py'), '--info'], {});
printPythonInfo(pyInfo);
console.log(
  'allocator: freed blocks up to 256 MiB kept in-process on both sides (segkit torch.setAllocatorCache(256 MiB); ' +
    `PyTorch GLIBC_TUNABLES=${TUNED})`,
);

const wanted = process.env.SEGKIT_BENCH_MODELS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const names = Object.keys(SEGKIT_MODELS).filter((n) => !wanted || wanted.includes(n));
const unknown = (wanted ?? []).filter((n) => !SEGKIT_MODELS[n]);
if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')}; known: ${Object.keys(SEGKIT_MODELS).join(', ')}`);
const hasPy = (n) => pyInfo.models.includes(n);
const plan = (n) => (hasPy(n) ? (PLAN[n] ?? SEGKIT_ONLY_PLAN) : SEGKIT_ONLY_PLAN);
const rounds = (n) => Math.min(ROUNDS, plan(n)[2] ?? ROUNDS, hasPy(n) ? Infinity : 1);

const empty = () => ({ params: 0, predict: [], train: [], buildRss: 0, predictRss: 0, trainRss: 0, predictFaults: [], trainFaults: [] });
const res = Object.fromEntries(names.map((n) => [n, { js: empty(), py: empty(), pairedPredict: [], pairedTrain: [] }]));
const add = (side, out) => {
  side.params = out.params;
  side.predict.push(Math.min(...out.predictMs));
  side.train.push(Math.min(...out.trainMs));
  side.buildRss = Math.max(side.buildRss, out.buildRssMb);
  side.predictRss = Math.max(side.predictRss, out.predictRssMb);
  side.trainRss = Math.max(side.trainRss, out.trainRssMb);
  side.predictFaults.push(out.faults[0]);
  side.trainFaults.push(out.faults[1]);
};
const maxRounds = Math.max(...names.map(rounds));
for (let round = 0; round < maxRounds; round++) {
  for (const n of names) {
    if (round >= rounds(n)) continue;
    const args = [n, THREADS, WARMUP, plan(n)[0], plan(n)[1]].map(String);
    const t0 = Date.now();
    const r = res[n];
    const sides = hasPy(n) ? (round % 2 === 0 ? ['py', 'js'] : ['js', 'py']) : ['js'];
    for (const s of sides) {
      await waitIdle();
      add(r[s], s === 'js' ? segkit(args) : pytorch(args));
    }
    if (hasPy(n)) {
      r.pairedPredict.push(r.js.predict.at(-1) / r.py.predict.at(-1));
      r.pairedTrain.push(r.js.train.at(-1) / r.py.train.at(-1));
    }
    console.error(`  round ${round + 1}: ${n} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}

if (contended)
  console.log(`WARNING: ${contended} run(s) started while other processes kept the CPUs busy for 3 minutes: timings are unreliable`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const best = (xs) => (xs.length ? Math.min(...xs).toFixed(0) : '-');
const timing = [];
const memory = [];
for (const n of names) {
  const { js, py, pairedPredict, pairedTrain } = res[n];
  const same = hasPy(n) && js.params === py.params;
  const ratio = (paired) => {
    if (!hasPy(n)) return 'no PyTorch equivalent';
    if (!same) return 'params differ: no ratio';
    return `${median(paired).toFixed(3)}x${paired.length === 1 ? ' (1 round)' : ''}`;
  };
  if (same) {
    const phases = [
      { what: 'predict 1x512', paired: pairedPredict, a: js.predict, b: py.predict, ra: js.predictRss, rb: py.predictRss },
      { what: 'train step 4x256', paired: pairedTrain, a: js.train, b: py.train, ra: js.trainRss, rb: py.trainRss },
    ];
    for (const { what, paired, a, b, ra, rb } of phases) {
      const m = median(paired);
      report(
        'models',
        `${n} ${what} @${THREADS}t`,
        `${best(a)} ms vs ${best(b)} ms; paired median ${m.toFixed(3)}x over ${paired.length} round(s); peak RSS ${ra.toFixed(0)} vs ${rb.toFixed(0)} MB`,
        `<= ${GOAL}x`,
        m <= GOAL,
      );
    }
  } else if (hasPy(n)) {
    report('models', `${n} parameter count`, `${js.params} vs ${py.params}`, 'equal', false);
  }
  const both = (a, b, f = (v) => v.toFixed(0)) => (hasPy(n) ? `${f(a)} / ${f(b)}` : `${f(a)} / -`);
  const faults = (xs) => (median(xs) / 1000).toFixed(1);
  timing.push([
    n,
    hasPy(n) ? `${js.params} / ${py.params}` : `${js.params} / -`,
    best(js.predict),
    hasPy(n) ? best(py.predict) : '-',
    ratio(pairedPredict),
    best(js.train),
    hasPy(n) ? best(py.train) : '-',
    ratio(pairedTrain),
  ]);
  memory.push([
    n,
    both(js.buildRss, py.buildRss),
    both(js.predictRss, py.predictRss),
    both(js.trainRss, py.trainRss),
    both(js.predictFaults, py.predictFaults, faults),
    both(js.trainFaults, py.trainFaults, faults),
  ]);
}
printTable(
  [
    'model',
    'params segkit / PyTorch',
    'predict segkit ms',
    'PyTorch ms',
    'predict ratio',
    'train step segkit ms',
    'PyTorch ms',
    'train ratio',
  ],
  timing,
  2,
);
console.log(
  `ms: best of the timed iterations over all rounds (warm-up ${WARMUP}); ratio: median over rounds of (segkit best / PyTorch best) in that round.`,
);
console.log('');
printTable(
  [
    'model',
    'RSS after build MB segkit / PyTorch',
    'peak RSS predict MB',
    'peak RSS train MB',
    'page faults/predict (k)',
    'page faults/step (k)',
  ],
  memory,
  1,
);
console.log(
  'RSS: process maxRSS after building the model, after the predict phase (it runs first) and after the training phase, max over rounds;' +
    ' page faults: minor faults per timed iteration, median over rounds.',
);
console.log(
  'PyTorch side: torchvision fcn_resnet50 / deeplabv3_resnet50 (weights=None, weights_backbone=None, aux_loss=False, num_classes=1);' +
    ' smp Unet/FPN/DeepLabV3Plus/PSPNet/Linknet/UnetPlusPlus/MAnet/PAN (resnet34) rewritten in bench/torch_models_smp.py;' +
    ' SegNet, FCN-32s/16s/8s, the original U-Net, DeepLab-LargeFOV, DeepLab v2 (resnet101) and RefineNet (resnet34) in bench/torch_models_paper.py.',
);
