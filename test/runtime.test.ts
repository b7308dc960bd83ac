// Threads, seeding, build info and the generic op call.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { execFileSync } from 'node:child_process';
import { torch } from '../src/index.js';
import { assertThrows, tensorTest } from './helpers.js';

tensorTest('threads default to the machine cores and can be set', () => {
  if (!process.env.OMP_NUM_THREADS) assert.equal(torch.getNumThreads(), availableParallelism());
  const before = torch.getNumThreads();
  torch.setNumThreads(1);
  assert.equal(torch.getNumThreads(), 1);
  torch.setNumThreads(before);
  assert.equal(torch.getNumThreads(), before);
  assertThrows(() => torch.setNumThreads(0), RangeError, /setNumThreads: n must be a positive integer, got 0/);
});

tensorTest('manualSeed makes libtorch generators repeatable; RNG state round-trips', () => {
  torch.tidy(() => {
    torch.manualSeed(7);
    const a = torch.randn([4]);
    const state = torch.getRngState();
    const b = torch.rand([3]);
    torch.manualSeed(7);
    assert.deepEqual(Array.from<number | bigint>(torch.randn([4]).toArray()), Array.from<number | bigint>(a.toArray()));
    torch.setRngState(state);
    assert.deepEqual(Array.from<number | bigint>(torch.rand([3]).toArray()), Array.from<number | bigint>(b.toArray()));
  });
  assertThrows(() => torch.manualSeed(-1), RangeError, /seed must be a non-negative/);
});

tensorTest('buildInfo and cuda report the build', () => {
  const info = torch.buildInfo();
  assert.match(info.libtorch, /^\d+\.\d+/);
  assert.equal(typeof info.bf16, 'boolean');
  assert.equal(torch.cuda.isAvailable(), info.cuda);
  if (!info.cuda) {
    const x = torch.ones([2]);
    assertThrows(() => x.to({ device: 'cuda' }), Error, /to: device 'cuda' requested but this libtorch build has no CUDA/);
    assertThrows(() => torch.zeros([2], { device: 'cuda:0' }), Error, /torch\.zeros: device 'cuda:0'/);
    x.dispose();
  }
});

tensorTest('ops.call reaches any aten op, picking the overload by argument types', () => {
  torch.tidy(() => {
    const x = torch.tensor([0.25, 0.5]);
    const erfinv = torch.ops.call('aten::erfinv', x);
    assert.ok(
      erfinv
        .sub(torch.tensor([0.2253121, 0.4769363]))
        .abs()
        .max()
        .item() < 1e-6,
    );
    // add.Tensor vs add.Scalar, and a keyword argument
    assert.deepEqual(Array.from(torch.ops.call('add', x, x, { alpha: 2 }).toArray()), [0.75, 1.5]);
    assert.deepEqual(Array.from(torch.ops.call('add', x, 1).toArray()), [1.25, 1.5]);
    // an explicit overload, int lists, a tuple return
    const up = torch.ops.call('upsample_nearest2d.vec', torch.ones([1, 1, 2, 2]), [4, 4], null);
    assert.deepEqual([...up.shape], [1, 1, 4, 4]);
    const [values, indices] = torch.ops.call(
      'aten::max.dim',
      torch.tensor([
        [1, 5],
        [7, 2],
      ]),
      1,
    ) as [typeof x, typeof x];
    assert.deepEqual(Array.from<number | bigint>(values.toArray()), [5, 7]);
    assert.deepEqual(Array.from<number | bigint>(indices.toArray()), [1n, 0n]);
    assert.ok(torch.ops.schemas('aten::erfinv')[0]!.startsWith('aten::erfinv('));
  });
  assertThrows(() => torch.ops.call('aten::no_such_op', 1), Error, /libtorch has no operator aten::no_such_op/);
  const x = torch.ones([1]);
  assertThrows(
    () => torch.ops.call('aten::erfinv', 'text'),
    TypeError,
    /no overload of aten::erfinv accepts \(string\)/,
    /erfinv\(Tensor self\)/,
  );
  x.dispose();
});

tensorTest("with segkit's cache off, setAllocatorCache (glibc) stops the page faults of repeated large allocations", () => {
  // In a child process: the setting is process-wide.
  const script = `
    import { torch, F } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
    const x = torch.randn([2, 32, 128, 128]);
    const w = torch.randn([32, 32, 3, 3]);
    const faults = () => process.resourceUsage().minorPageFault;
    const run = () => { const f0 = faults(); for (let i = 0; i < 6; i++) torch.tidy(() => { F.conv2d(x, w, { padding: 1 }).relu().sum().item(); }); return faults() - f0; };
    // segkit's own cache off, so tensor memory goes through glibc's malloc.
    torch.cpu.setCacheLimit(0);
    // glibc's thresholds move on their own as a process frees large blocks: pin its
    // starting values (0) so "before" is the unmap-every-time behaviour whatever ran earlier.
    torch.setAllocatorCache(0);
    run();
    const before = run();
    const ok = torch.setAllocatorCache(256 * 2 ** 20);
    run();
    run(); // the heap grows to its working size over the first steps
    const after = run();
    console.log(JSON.stringify({ ok, before, after }));
    torch.dispose([x, w]);`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.equal(r.ok, true, 'glibc accepted the thresholds');
  assert.ok(r.before > 1000, `default malloc faults on every step (${r.before})`);
  assert.ok(r.after * 5 < r.before, `faults drop at least fivefold: ${r.before} -> ${r.after}`);
  assertThrows(() => torch.setAllocatorCache(-1), RangeError, /setAllocatorCache: bytes must be an integer/);
});
