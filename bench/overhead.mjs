// Per-call overhead: torch.add on 1x1 float32 tensors, segkit vs PyTorch, at 1 and 2 threads.
// A PyTorch worker process and this one take turns, ROUNDS times; each turn times REPS runs of
// CALLS calls per form, and the best run over all rounds counts, in ns/call.
import { torch } from '../dist/index.js';
import { nowNs, printMachine, printPythonInfo, printTable, report, startPython } from './common.mjs';

const CALLS = 200_000;
const REPS = 3;
const ROUNDS = 3;
const GOAL = 1.2;

const a = torch.ones([1, 1]);
const b = torch.ones([1, 1]);

// [segkit case, the PyTorch case it is compared with, the timed loop]
/** @type {[string, string, () => void][]} */
const CASES = [
  [
    'torch.add(a, b).dispose()',
    'torch.add(a, b)',
    () => {
      for (let i = 0; i < CALLS; i++) torch.add(a, b).dispose();
    },
  ],
  [
    'a.add(b).dispose()',
    'a.add(b)',
    () => {
      for (let i = 0; i < CALLS; i++) a.add(b).dispose();
    },
  ],
  // A block body: with `() => a.add(b)` tidy would return the tensor, so it would outlive the scope
  // and wait for the GC finalizer (which never runs inside this synchronous loop).
  [
    'torch.tidy(() => { a.add(b); })',
    'torch.add(a, b)',
    () => {
      for (let i = 0; i < CALLS; i++)
        torch.tidy(() => {
          a.add(b);
        });
    },
  ],
];

function bestNs(fn) {
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const t0 = nowNs();
    fn();
    best = Math.min(best, nowNs() - t0);
  }
  return best / CALLS;
}

printMachine('overhead: torch.add on 1x1 float32, ns/call');
console.log(`${CALLS} calls x best of ${REPS} reps x ${ROUNDS} alternating rounds (PyTorch, then segkit)`);
for (const [, , fn] of CASES) fn(); // warm-up: JIT, allocator

const js = {}; // `${threads} ${case}` -> best ns
const py = {};
const keep = (m, k, v) => {
  m[k] = Math.min(m[k] ?? Infinity, v);
};
const python = startPython('torch_overhead.py');
let pyInfo;
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of [1, 2]) {
    const r = await python.ask(threads, CALLS, REPS);
    pyInfo = r.info;
    for (const [k, v] of Object.entries(r.ns)) keep(py, `${threads} ${k}`, v);
    torch.setNumThreads(threads);
    for (const [name, , fn] of CASES) keep(js, `${threads} ${name}`, bestNs(fn));
  }
}
await python.close();
printPythonInfo(pyInfo);

const rows = [];
for (const threads of [1, 2]) {
  for (const [name, pyName] of CASES) {
    const s = js[`${threads} ${name}`];
    const p = py[`${threads} ${pyName}`];
    const ratio = s / p;
    rows.push([name, threads, s.toFixed(0), `${p.toFixed(0)} (${pyName})`, `${ratio.toFixed(2)}x`, ratio <= GOAL ? 'ok' : 'SLOW']);
    report(
      'overhead',
      `${name} @${threads}t`,
      `${s.toFixed(0)} ns vs ${p.toFixed(0)} ns = ${ratio.toFixed(2)}x`,
      `<= ${GOAL}x`,
      ratio <= GOAL,
    );
  }
}
printTable(['case', 'threads', 'segkit ns', 'PyTorch ns', 'ratio', `goal <= ${GOAL}x`], rows);
console.log(`live tensors at the end: ${torch.liveTensors()} (2 expected: a and b)`);
a.dispose();
b.dispose();
