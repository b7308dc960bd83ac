// segkit's CPU tensor allocator: the cache of freed blocks, its limit and its statistics.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { torch, F, createModel, type MemoryStats } from '../src/index.js';
import { assertThrows, tensorTest } from './helpers.js';

const MiB = 2 ** 20;
const INDEX = JSON.stringify(new URL('../src/index.ts', import.meta.url).href);

function child(script: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function consistent(s: MemoryStats): void {
  assert.equal(s.reservedBytes, s.allocatedBytes + s.cachedBytes, 'reserved = allocated + cached');
  assert.ok(s.peakAllocatedBytes >= s.allocatedBytes && s.peakCachedBytes >= s.cachedBytes && s.peakReservedBytes >= s.reservedBytes);
  assert.ok(s.cachedBytes <= s.cacheLimit, `cached ${s.cachedBytes} within the limit ${s.cacheLimit}`);
  assert.ok(s.cacheHits + s.cacheMisses <= s.allocations);
}

tensorTest('freed blocks are reused: allocated returns to where it was, the second pass is served from the cache', () => {
  const limit = torch.cpu.memoryStats().cacheLimitAuto ? 'auto' : torch.cpu.getCacheLimit();
  try {
    torch.cpu.setCacheLimit(256 * MiB);
    const x = torch.randn([2, 16, 96, 96]);
    const w = torch.randn([16, 16, 3, 3]);
    const pass = () =>
      torch.tidy(() =>
        F.conv2d(F.conv2d(x, w, { padding: 1 }).relu(), w, { padding: 1 })
          .sum()
          .item(),
      );
    const base = torch.cpu.memoryStats();
    consistent(base);
    const first = pass();
    const mid = torch.cpu.memoryStats();
    consistent(mid);
    assert.equal(mid.allocatedBytes, base.allocatedBytes, 'every block of the pass was freed');
    assert.ok(mid.allocations > base.allocations);
    const second = pass();
    const end = torch.cpu.memoryStats();
    consistent(end);
    assert.equal(second, first, 'the same numbers from reused memory');
    assert.equal(end.cacheMisses, mid.cacheMisses, 'no large block taken from malloc on the second pass');
    assert.ok(end.cacheHits >= mid.cacheHits + 3, 'the three activations came from the cache');
    assert.equal(end.peakReservedBytes, mid.peakReservedBytes, 'the second pass needed no more memory');
    assert.ok(end.peakAllocatedBytes >= base.allocatedBytes + 2 * 16 * 96 * 96 * 4, 'the peak saw the activations');
    torch.dispose([x, w]);
  } finally {
    torch.cpu.setCacheLimit(limit);
  }
});

tensorTest('a model gives the same outputs and gradients with the cache on and off', () => {
  const limit = torch.cpu.memoryStats().cacheLimitAuto ? 'auto' : torch.cpu.getCacheLimit();
  torch.manualSeed(0);
  const model = createModel('unet', { encoderName: 'resnet18', encoderWeights: null, classes: 1 });
  const x = torch.randn([2, 3, 64, 64]);
  const run = () =>
    torch.tidy(() => {
      model.zeroGrad();
      const y = model.forward(x);
      y.square().mean().backward();
      return [y.toArray() as Float32Array, model.parameters()[0]!.grad!.toArray() as Float32Array];
    });
  try {
    torch.cpu.setCacheLimit(0);
    const off = run();
    torch.cpu.setCacheLimit(512 * MiB);
    run();
    const on = run();
    assert.ok(torch.cpu.memoryStats().cacheHits > 0);
    assert.deepEqual(on[0], off[0], 'outputs bit for bit');
    assert.deepEqual(on[1], off[1], 'gradients bit for bit');
  } finally {
    torch.cpu.setCacheLimit(limit);
    model.zeroGrad();
    torch.dispose([x]);
    model.dispose();
  }
});

tensorTest('the limit is honoured; lowering it and emptyCache give memory back; 0 caches nothing', () => {
  const limit = torch.cpu.memoryStats().cacheLimitAuto ? 'auto' : torch.cpu.getCacheLimit();
  try {
    torch.cpu.emptyCache();
    torch.cpu.setCacheLimit(8 * MiB);
    // 20 live blocks of 1 MiB, then all freed: at most 8 MiB of them stay.
    const blocks = Array.from({ length: 20 }, () => torch.empty([MiB / 4]));
    torch.dispose(blocks);
    let s = torch.cpu.memoryStats();
    consistent(s);
    assert.ok(s.cachedBytes <= 8 * MiB && s.cachedBytes >= 7 * MiB, `cached ${s.cachedBytes}`);
    assert.equal(s.cacheLimit, 8 * MiB);
    // A block larger than the limit is never cached.
    torch.empty([4 * MiB]).dispose();
    assert.ok(torch.cpu.memoryStats().cachedBytes <= 8 * MiB);
    torch.cpu.setCacheLimit(2 * MiB);
    s = torch.cpu.memoryStats();
    assert.ok(s.cachedBytes <= 2 * MiB, 'lowering the limit trims the cache at once');
    torch.cpu.emptyCache();
    s = torch.cpu.memoryStats();
    assert.equal(s.cachedBytes, 0);
    consistent(s);
    torch.cpu.setCacheLimit(0);
    const hits = s.cacheHits;
    for (let i = 0; i < 5; i++) torch.empty([MiB]).dispose();
    s = torch.cpu.memoryStats();
    assert.equal(s.cachedBytes, 0, 'limit 0: nothing kept');
    assert.equal(s.cacheHits, hits, 'limit 0: nothing reused');
    torch.cpu.resetPeakMemoryStats();
    s = torch.cpu.memoryStats();
    assert.equal(s.peakAllocatedBytes, s.allocatedBytes);
    assert.equal(s.peakCachedBytes, s.cachedBytes);
  } finally {
    torch.cpu.setCacheLimit(limit);
  }
});

tensorTest('a long training loop stays flat: no growth of reserved bytes after the first steps', () => {
  const limit = torch.cpu.memoryStats().cacheLimitAuto ? 'auto' : torch.cpu.getCacheLimit();
  torch.manualSeed(0);
  const model = createModel('fpn', { encoderName: 'resnet18', encoderWeights: null, classes: 2 });
  const opt = new torch.optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = torch.randn([2, 3, 64, 64]);
  const target = torch.randint(0, 2, [2, 64, 64]);
  const step = () =>
    torch.tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(model.forward(x), target).backward();
      opt.step();
    });
  try {
    torch.cpu.setCacheLimit(1024 * MiB);
    for (let i = 0; i < 3; i++) step();
    const warm = torch.cpu.memoryStats();
    for (let i = 0; i < 40; i++) step();
    const end = torch.cpu.memoryStats();
    consistent(end);
    assert.equal(end.allocatedBytes, warm.allocatedBytes, 'live bytes back where they were after each step');
    assert.ok(
      end.peakReservedBytes <= warm.peakReservedBytes * 1.05,
      `reserved peak ${warm.peakReservedBytes} -> ${end.peakReservedBytes}`,
    );
    const perStep = (end.cacheMisses - warm.cacheMisses) / 40;
    assert.ok(perStep < 1, `large blocks taken from malloc per step after warm-up: ${perStep}`);
    assert.ok(end.cacheHits - warm.cacheHits > 40 * 10, 'each step reuses cached blocks');
  } finally {
    torch.cpu.setCacheLimit(limit);
    opt.dispose();
    torch.dispose([x, target]);
    model.dispose();
  }
});

tensorTest('the cache stops the page faults of repeated large allocations (fresh process)', () => {
  const script = `
    import { torch, F } from ${INDEX};
    // libtorch's convolution: its allocation pattern is what this measures (segkit's Winograd
    // route allocates differently and, measured, barely faults even without the cache).
    torch.backends.winograd.enabled = false;
    const x = torch.randn([2, 32, 128, 128]);
    const w = torch.randn([32, 32, 3, 3]);
    const faults = () => process.resourceUsage().minorPageFault;
    const run = () => { const f0 = faults(); for (let i = 0; i < 6; i++) torch.tidy(() => { F.conv2d(x, w, { padding: 1 }).relu().sum().item(); }); return faults() - f0; };
    torch.cpu.setCacheLimit(0);
    run();
    const off = run();
    torch.cpu.setCacheLimit(256 * 2 ** 20);
    run();
    const on = run();
    console.log(JSON.stringify({ off, on }));
    torch.dispose([x, w]);`;
  const r = JSON.parse(child(script).trim().split('\n').at(-1)!);
  assert.ok(r.off > 1000, `without the cache every step faults (${r.off})`);
  assert.ok(r.on * 10 < r.off, `faults drop at least tenfold: ${r.off} -> ${r.on}`);
});

tensorTest(
  'freed neighbours merge: four freed 4 MiB blocks serve one 16 MiB request, a 16 MiB block two 8 MiB ones (fresh process)',
  () => {
    const script = `
    import { torch } from ${INDEX};
    const MiB = 2 ** 20;
    const s = () => torch.cpu.memoryStats();
    torch.dispose(Array.from({ length: 4 }, () => torch.empty([MiB]).fill_(1)));
    const a = s();
    const big = torch.empty([4 * MiB]).fill_(2);
    const b = s();
    big.dispose();
    const halves = [torch.empty([2 * MiB]).fill_(3), torch.empty([2 * MiB]).fill_(4)];
    const c = s();
    torch.dispose(halves);
    console.log(JSON.stringify({ a, b, c }));`;
    const { a, b, c } = JSON.parse(child(script).trim().split('\n').at(-1)!) as Record<string, MemoryStats>;
    for (const x of [a, b, c]) consistent(x!);
    assert.equal(b!.cacheMisses, a!.cacheMisses, 'the 16 MiB block needed no fresh pages');
    assert.equal(b!.cacheHits, a!.cacheHits + 1);
    assert.equal(b!.reservedBytes, a!.reservedBytes, 'nor more memory');
    assert.equal(c!.cacheMisses, a!.cacheMisses, 'the 8 MiB halves neither');
    assert.equal(c!.cacheHits, a!.cacheHits + 3);
    assert.equal(c!.peakReservedBytes, a!.peakReservedBytes, 'the peak stayed that of the first four blocks');
  },
);

tensorTest("the default limit 'auto' grows with the most bytes live at once: a step larger than 1 GiB keeps all its memory", () => {
  torch.cpu.setCacheLimit('auto');
  torch.cpu.emptyCache();
  try {
    // 20 blocks of 64 MiB, written (pages resident) and live together: 1.25 GiB.
    const blocks = Array.from({ length: 20 }, () => torch.zeros([(64 * MiB) / 4]));
    let s = torch.cpu.memoryStats();
    assert.equal(s.cacheLimitAuto, true);
    assert.ok(s.cacheLimit >= 20 * 64 * MiB, `limit ${s.cacheLimit} grew to the live bytes`);
    torch.dispose(blocks);
    s = torch.cpu.memoryStats();
    consistent(s);
    assert.ok(s.cachedBytes >= 20 * 64 * MiB, `cached ${s.cachedBytes}: all of it kept (a fixed 1 GiB would keep 1024 MiB)`);
    const misses = s.cacheMisses;
    const again = Array.from({ length: 20 }, () => torch.zeros([(64 * MiB) / 4]));
    assert.equal(torch.cpu.memoryStats().cacheMisses, misses, 'the second step found every page resident');
    torch.dispose(again);
    torch.cpu.resetPeakMemoryStats();
    assert.ok(torch.cpu.getCacheLimit() >= 20 * 64 * MiB, 'resetting the peak counters does not shrink the auto limit');
    torch.cpu.setCacheLimit(2 ** 30);
    s = torch.cpu.memoryStats();
    assert.equal(s.cacheLimitAuto, false);
    assert.ok(s.cachedBytes <= 2 ** 30, 'a fixed limit trims at once');
  } finally {
    torch.cpu.setCacheLimit('auto');
    torch.cpu.emptyCache();
  }
});

tensorTest('bad limits are refused; SEGKIT_CPU_CACHE_LIMIT sets the limit for a process', () => {
  assertThrows(() => torch.cpu.setCacheLimit(-1), RangeError, /cpu\.setCacheLimit: bytes must be a non-negative integer, got -1/);
  assertThrows(() => torch.cpu.setCacheLimit(1.5), RangeError, /cpu\.setCacheLimit: bytes/);
  assertThrows(
    () => torch.cpu.setCacheLimit('1GB' as unknown as number),
    TypeError,
    /cpu\.setCacheLimit: bytes must be a non-negative integer or 'auto', got '1GB'/,
  );
  const read = `import { torch } from ${INDEX}; console.log(torch.cpu.getCacheLimit());`;
  assert.equal(child(read).trim(), String(2 ** 30), "default 'auto': 1 GiB in a fresh process");
  assert.equal(child(read, { SEGKIT_CPU_CACHE_LIMIT: '0' }).trim(), '0');
  assert.equal(child(read, { SEGKIT_CPU_CACHE_LIMIT: '65536' }).trim(), '65536');
  assert.throws(
    () => child(read, { SEGKIT_CPU_CACHE_LIMIT: '1GB' }),
    (e: Error & { stderr?: string }) =>
      /SEGKIT_CPU_CACHE_LIMIT must be a number of bytes \(a non-negative integer\), got '1GB'/.test(e.stderr ?? ''),
  );
});

tensorTest('worker threads share the allocator with the main thread', async () => {
  const { Worker } = await import('node:worker_threads');
  const before = torch.cpu.memoryStats().allocations;
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(dist)}).then(({ torch }) => {
      const t = torch.empty([1 << 20]);
      const s = torch.cpu.memoryStats();
      t.dispose();
      parentPort.postMessage(s.allocations);
    });`;
  const seen = await new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
  assert.ok(seen > before, `the worker's allocation counted in the process-wide statistics (${before} -> ${seen})`);
});
