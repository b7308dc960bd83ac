// Explicit memory: torch.tidy / keep / dispose semantics, `using`, the FinalizationRegistry
// safety net (in a child process with --expose-gc), and a 1000-step training loop whose live
// tensor count must not drift.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { torch, F, nn, type Tensor } from '../src/index.js';
import { tensorTest, assertThrows } from './helpers.js';

/** A tensor's values as plain numbers. */
const nums = (t: Tensor): number[] => Array.from(t.toArray() as unknown as ArrayLike<number>, Number);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const live = () => torch.liveTensors();

describe('tidy: what it returns and what it frees', () => {
  tensorTest("returns fn's value (also non-tensor values)", () => {
    assert.equal(
      torch.tidy(() => 42),
      42,
    );
    assert.equal(
      torch.tidy(() => 'text'),
      'text',
    );
    assert.equal(
      torch.tidy(() => undefined),
      undefined,
    );
    assert.equal(
      torch.tidy(() => null),
      null,
    );
    const obj = { a: 1 };
    assert.equal(
      torch.tidy(() => obj),
      obj,
      'the very same object',
    );
    assert.equal(
      torch.tidy('named scope', () => 7),
      7,
    );
  });

  tensorTest('frees every tensor created inside that is not returned', () => {
    const before = live();
    const made: Tensor[] = [];
    const n = torch.tidy(() => {
      const a = torch.ones([3]);
      const b = a.add(1);
      const c = b.mul(a);
      const d = c.exp();
      made.push(a, b, c, d);
      assert.equal(live(), before + 4);
      return d.sum().item();
    });
    assert.ok(Math.abs(n - 3 * Math.exp(2)) < 1e-4, `sum ${n}`);
    assert.equal(live(), before);
    for (const t of made) assert.equal(t.isDisposed, true);
  });

  tensorTest('keeps a returned tensor, and tensors inside returned arrays, plain objects and Maps', () => {
    const before = live();
    const freed: Tensor[] = [];
    const r = torch.tidy(() => {
      const t = (v: number) => torch.full([1], v);
      freed.push(t(0), t(-1));
      return {
        direct: t(1),
        arr: [t(2), [t(3), { deep: t(4) }]] as const,
        obj: { x: t(5), y: { z: t(6) }, n: 1, s: 'str' },
        map: new Map<string, Tensor | { inner: Tensor }>([
          ['m', t(7)],
          ['o', { inner: t(8) }],
        ]),
        nullProto: Object.assign(Object.create(null) as Record<string, Tensor>, { p: t(9) }),
      };
    });
    assert.equal(live(), before + 9, 'exactly the nine returned tensors survive');
    for (const t of freed) assert.equal(t.isDisposed, true);
    const values = [
      r.direct,
      r.arr[0],
      r.arr[1][0],
      r.arr[1][1].deep,
      r.obj.x,
      r.obj.y.z,
      r.map.get('m') as Tensor,
      (r.map.get('o') as { inner: Tensor }).inner,
      r.nullProto.p,
    ].map((t) => t.item());
    assert.deepEqual(values, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    torch.dispose(r);
    assert.equal(live(), before, 'torch.dispose walks the same structures');
  });

  tensorTest('a returned tensor that appears twice (or in a cycle) is kept once', () => {
    const before = live();
    const r = torch.tidy(() => {
      const t = torch.ones([1]);
      const cyc: Record<string, unknown> = { t };
      cyc.self = cyc;
      return [t, t, cyc];
    });
    assert.equal(live(), before + 1);
    assert.equal(r[0], r[1]);
    (r[0] as Tensor).dispose();
    assert.equal(live(), before);
  });

  tensorTest('never frees tensors created outside it, even when used or returned inside', () => {
    const outside = torch.ones([2]);
    const before = live();
    const r = torch.tidy(() => {
      outside.add(1);
      outside.mul_(2);
      return outside;
    });
    assert.equal(r, outside);
    assert.equal(outside.isDisposed, false);
    assert.deepEqual(nums(outside), [2, 2]);
    assert.equal(live(), before);
    // ... and an enclosing tidy does not adopt it either
    torch.tidy(() => torch.tidy(() => outside));
    assert.equal(outside.isDisposed, false);
    outside.dispose();
  });

  tensorTest('never frees the .grad a backward inside it accumulates', () => {
    const w = torch.ones([3], { requiresGrad: true });
    torch.tidy(() => w.mul(2).sum().backward());
    assert.ok(w.grad !== null);
    assert.deepEqual(nums(w.grad), [2, 2, 2]);
    // reading .grad inside a tidy does not hand the handle to the scope
    const g = torch.tidy(() => {
      w.mul(3).sum().backward();
      const inner = w.grad!;
      inner.add(1); // a temporary, freed
      return 0 as number;
    });
    assert.equal(g, 0);
    assert.equal(w.grad!.isDisposed, false);
    assert.deepEqual(nums(w.grad!), [5, 5, 5]);
    // nor does an enclosing tidy
    torch.tidy(() =>
      torch.tidy(() => {
        w.sum().backward();
        void w.grad;
      }),
    );
    assert.deepEqual(nums(w.grad!), [6, 6, 6]);
    w.dispose();
  });

  tensorTest('a leaf created inside and returned keeps its gradient usable', () => {
    const w = torch.tidy(() => {
      const p = torch.ones([2], { requiresGrad: true });
      p.mul(4).sum().backward();
      return p;
    });
    assert.deepEqual(nums(w.grad!), [4, 4]);
    w.dispose();
  });
});

describe('tidy: nesting', () => {
  tensorTest('returned tensors move to the enclosing scope and are freed there unless returned again', () => {
    const before = live();
    let fromInner!: Tensor;
    let kept!: Tensor;
    const out = torch.tidy(() => {
      fromInner = torch.tidy(() => {
        torch.ones([5]); // freed by the inner scope
        return torch.ones([2]);
      });
      assert.equal(fromInner.isDisposed, false, 'alive in the parent scope');
      assert.equal(live(), before + 1);
      kept = torch.tidy(() => torch.zeros([3]));
      return kept;
    });
    assert.equal(fromInner.isDisposed, true, 'freed by the enclosing tidy, which did not return it');
    assert.equal(out, kept);
    assert.equal(kept.isDisposed, false);
    assert.equal(live(), before + 1);
    kept.dispose();
  });

  tensorTest('three levels deep, a tensor returned at every level survives', () => {
    const before = live();
    const t = torch.tidy(() => torch.tidy(() => torch.tidy(() => torch.ones([1]).add(1))));
    assert.equal(live(), before + 1);
    assert.equal(t.item(), 2);
    t.dispose();
  });

  tensorTest('an inner tidy does not free tensors of the outer scope', () => {
    torch.tidy(() => {
      const a = torch.ones([2]);
      torch.tidy(() => a.add(1));
      assert.equal(a.isDisposed, false);
      torch.tidy(() => [a]);
      assert.equal(a.isDisposed, false);
    });
  });

  tensorTest('disposing a tensor by hand inside a tidy is fine (no double free at the end)', () => {
    const before = live();
    torch.tidy(() => {
      const a = torch.ones([2]);
      a.dispose();
      const b = torch.tidy(() => torch.ones([2]));
      b.dispose();
      for (let i = 0; i < 3000; i++) torch.ones([1]).dispose(); // the scope compacts its list
    });
    assert.equal(live(), before);
  });
});

describe('keep and dispose', () => {
  tensorTest('torch.keep exempts tensors from every enclosing tidy', () => {
    const before = live();
    let k1!: Tensor;
    let k2!: Tensor;
    torch.tidy(() => {
      torch.tidy(() => {
        k1 = torch.keep(torch.ones([1]));
        const r = torch.keep({ a: [torch.ones([2])] });
        k2 = r.a[0]!;
        torch.ones([3]);
      });
      assert.equal(k1.isDisposed, false);
    });
    assert.equal(k1.isDisposed, false);
    assert.equal(k2.isDisposed, false);
    assert.equal(live(), before + 2);
    torch.dispose([k1, k2]);
    assert.equal(live(), before);
  });

  tensorTest('keep returns its argument', () => {
    torch.tidy(() => {
      const t = torch.ones([1]);
      assert.equal(torch.keep(t), t);
      const o = { t };
      assert.equal(torch.keep(o), o);
      t.dispose();
    });
  });

  tensorTest('dispose() twice is safe; torch.dispose of a disposed tensor too', () => {
    const before = live();
    const t = torch.ones([2]);
    t.dispose();
    t.dispose();
    torch.dispose(t);
    torch.dispose([t, { t }]);
    assert.equal(t.isDisposed, true);
    assert.equal(live(), before);
    torch.dispose(null);
    torch.dispose(5);
    torch.dispose('x');
  });

  tensorTest('using a disposed tensor throws a clear Error (methods, properties, as an argument)', () => {
    const t = torch.ones([2]);
    const other = torch.ones([2]);
    t.dispose();
    assertThrows(() => t.add(1), Error, /torch\.add: input is a disposed Tensor/);
    assertThrows(() => other.add(t), Error, /torch\.add: other is a disposed Tensor/);
    assertThrows(() => F.conv2d(t, other), Error, /F\.conv2d: input is a disposed Tensor/);
    assertThrows(() => torch.cat([other, t]), Error, /torch\.cat/, /tensors\[1\]/, /disposed/);
    assertThrows(() => t.shape, Error, /disposed/);
    assertThrows(() => t.dtype, Error, /disposed/);
    assertThrows(() => t.toArray(), Error, /disposed/);
    assertThrows(() => t.item(), Error, /disposed/);
    assertThrows(() => t.requiresGrad, Error, /disposed/);
    assertThrows(() => t.grad, Error, /disposed/);
    assertThrows(() => t.backward(), Error, /disposed/);
    assertThrows(() => t.sum(), Error, /torch\.sum/, /disposed/);
    assertThrows(() => t.zero_(), Error, /zero_/, /disposed/);
    assert.equal(t.isDisposed, true);
    assert.equal(String(t), 'tensor(<disposed>)');
    other.dispose();
  });

  tensorTest('Symbol.dispose: `using` frees at the end of the block', () => {
    const before = live();
    let ref!: Tensor;
    {
      using t = torch.ones([2]);
      ref = t;
      assert.equal(live(), before + 1);
      assert.deepEqual(nums(t), [1, 1]);
    }
    assert.equal(ref.isDisposed, true);
    assert.equal(live(), before);
    // also on an early exit by throw
    assert.throws(() => {
      using t = torch.ones([2]);
      ref = t;
      throw new Error('early');
    }, /early/);
    assert.equal(ref.isDisposed, true);
    // calling the method directly, and `using` after an explicit dispose
    const u = torch.ones([1]);
    u[Symbol.dispose]();
    assert.equal(u.isDisposed, true);
    {
      using v = torch.ones([1]);
      v.dispose();
    }
    assert.equal(live(), before);
  });
});

describe('tidy: errors', () => {
  tensorTest("a throw inside tidy frees the scope's tensors and rethrows the same error", () => {
    const before = live();
    const outside = torch.ones([1]);
    const boom = new RangeError('boom');
    let inside!: Tensor;
    assert.throws(
      () =>
        torch.tidy(() => {
          inside = torch.ones([2]).add(outside);
          throw boom;
        }),
      (e: unknown) => e === boom,
    );
    assert.equal(inside.isDisposed, true);
    assert.equal(outside.isDisposed, false);
    assert.equal(live(), before + 1);
    outside.dispose();
  });

  tensorTest('a throw in a nested tidy frees only that scope; the outer one goes on', () => {
    const before = live();
    const r = torch.tidy(() => {
      const a = torch.ones([1]);
      let inner!: Tensor;
      try {
        torch.tidy(() => {
          inner = torch.ones([2]);
          a.add(torch.ones([3])); // broadcasting error from libtorch
        });
      } catch (e) {
        assert.ok(e instanceof Error);
      }
      assert.equal(inner.isDisposed, true);
      assert.equal(a.isDisposed, false);
      return a;
    });
    assert.equal(live(), before + 1);
    r.dispose();
  });

  tensorTest('the scope stack survives a throw: later tidies still free correctly', () => {
    const before = live();
    try {
      torch.tidy(() =>
        torch.tidy(() => {
          torch.ones([1]);
          throw new Error('x');
        }),
      );
    } catch {
      /* expected */
    }
    let t!: Tensor;
    torch.tidy(() => {
      t = torch.ones([1]);
    });
    assert.equal(t.isDisposed, true);
    const kept = torch.tidy(() => torch.ones([1]));
    assert.equal(kept.isDisposed, false);
    kept.dispose();
    assert.equal(live(), before);
  });

  tensorTest('an async function is refused with a TypeError, and what it made synchronously is freed', async () => {
    const before = live();
    let made!: Tensor;
    assertThrows(
      () =>
        torch.tidy(async () => {
          made = torch.ones([2]);
          await Promise.resolve();
          return made;
        }),
      TypeError,
      /tidy/,
      /synchronous/,
      /Promise/,
    );
    assert.equal(made.isDisposed, true);
    assert.equal(live(), before);
    assertThrows(() => torch.tidy('loader', async () => 1), TypeError, /loader/, /synchronous/);
    await new Promise((r) => setTimeout(r, 1));
    assert.equal(live(), before);
  });

  tensorTest('tidy refuses what is not a function', () => {
    assertThrows(() => torch.tidy(5 as unknown as () => void), TypeError, /tidy/, /function/, /got 5/);
    assertThrows(() => torch.tidy('name', 5 as unknown as () => void), TypeError, /tidy/, /function/, /got 5/);
    assertThrows(() => torch.tidy('name' as unknown as () => void), TypeError, /tidy/, /function/);
  });
});

describe('views and disposal', () => {
  tensorTest('disposing the base never invalidates a view (each handle owns a reference)', () => {
    const base = torch.tidy(() => torch.arange(6, { dtype: 'float32' }).reshape([2, 3]));
    const v = base.select(0, 1);
    base.dispose();
    assert.deepEqual(nums(v), [3, 4, 5]);
    v.dispose();
  });
});

// ------------------------------------------------------------------ FinalizationRegistry

/** Runs `body` (ES module JS with `torch` in scope and `settle()` = gc until quiet) in a child node with --expose-gc. */
function inChild(body: string): Record<string, number | boolean> {
  const src = pathToFileURL(join(ROOT, 'src', 'index.ts')).href;
  const code = `const { torch } = await import(${JSON.stringify(src)});
const settle = async () => { for (let i = 0; i < 20; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); } };
await settle();
${body}`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `child failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as Record<string, number | boolean>;
}

describe('FinalizationRegistry safety net (child process with --expose-gc)', () => {
  // The registry may register tensors made outside tidy in batches (about a thousand at a time),
  // so each check makes several thousand forgotten tensors and allows up to SLACK to remain.
  const SLACK = 1100;

  test('forgotten tensors are freed after garbage collection; reachable ones are not', () => {
    const r = inChild(`
const base = torch.liveTensors();
const held = torch.ones([4]);
(() => { for (let i = 0; i < 3000; i++) torch.ones([16]).add(1); })();
const made = torch.liveTensors() - base;
await settle();
const afterGc = torch.liveTensors() - base;
const heldOk = !held.isDisposed && torch.tidy(() => held.sum().item()) === 4;
held.dispose();
console.log(JSON.stringify({ made, afterGc, heldOk }));
`);
    assert.equal(r.made, 6001);
    assert.ok((r.afterGc as number) < SLACK, `${r.afterGc} of 6001 tensors still live after gc`);
    assert.equal(r.heldOk, true, 'a reachable tensor is never collected');
  });

  test('a tensor disposed by hand and then collected is not freed twice', () => {
    const r = inChild(`
const base = torch.liveTensors();
(() => { for (let i = 0; i < 3000; i++) torch.ones([4]).dispose(); })();
const a = torch.ones([1]); // reuses a freed slot: a second free of that slot would kill it
await settle();
const b = torch.ones([1]);
await settle();
console.log(JSON.stringify({ live: torch.liveTensors() - base, ok: a.item() === 1 && b.item() === 1 }));
`);
    assert.equal(r.live, 2);
    assert.equal(r.ok, true);
  });

  test('returned-from-tidy and kept tensors are covered by the safety net too', () => {
    const r = inChild(`
const base = torch.liveTensors();
(() => {
  for (let i = 0; i < 1500; i++) torch.tidy(() => torch.ones([2]).add(1));
  for (let i = 0; i < 1500; i++) torch.tidy(() => { torch.keep(torch.ones([2])); });
})();
const made = torch.liveTensors() - base;
await settle();
console.log(JSON.stringify({ made, afterGc: torch.liveTensors() - base }));
`);
    assert.equal(r.made, 3000);
    assert.ok((r.afterGc as number) < SLACK, `${r.afterGc} of 3000 tensors still live after gc`);
  });

  test('a forgotten leaf is freed together with its .grad', () => {
    const r = inChild(`
const base = torch.liveTensors();
(() => {
  for (let i = 0; i < 1500; i++) {
    const p = torch.ones([2], { requiresGrad: true });
    torch.tidy(() => p.mul(2).sum().backward());
    void p.grad; // creates the .grad handle owned by p
  }
})();
const made = torch.liveTensors() - base;
await settle();
console.log(JSON.stringify({ made, afterGc: torch.liveTensors() - base }));
`);
    assert.equal(r.made, 3000);
    assert.ok((r.afterGc as number) < SLACK, `${r.afterGc} of 3000 leaf/grad tensors still live after gc`);
  });
});

// ------------------------------------------------------------------ training loop

describe('training loop', () => {
  tensorTest('1000 SGD steps of a tiny conv net, each in torch.tidy: the live count is flat and the loss finite', () => {
    const before = live();
    torch.manualSeed(0);
    const [x, y, w1, b1, w2, b2] = torch.tidy(() => [
      torch.randn([4, 3, 8, 8]),
      torch.rand([4, 1, 8, 8]).gt(0.5).float(),
      torch.randn([6, 3, 3, 3]).mul(0.3).requiresGrad_(),
      torch.zeros([6], { requiresGrad: true }),
      torch.randn([1, 6, 3, 3]).mul(0.3).requiresGrad_(),
      torch.zeros([1], { requiresGrad: true }),
    ]);
    const params = [w1!, b1!, w2!, b2!];
    const lr = 0.1;
    const counts = new Map<number, number>();
    const losses: number[] = [];
    for (let step = 1; step <= 1000; step++) {
      const loss = torch.tidy(() => {
        const h = F.conv2d(x!, w1!, { bias: b1, padding: 1 }).relu();
        const logits = F.conv2d(h, w2!, { bias: b2, padding: 1 });
        const l = F.binaryCrossEntropyWithLogits(logits, y!);
        l.backward();
        torch.noGrad(() => {
          for (const p of params) p.sub_(p.grad!.mul(lr));
        });
        // both ways of zeroing: drop the gradient, or zero it in place
        w1!.grad = null;
        b1!.grad = null;
        w2!.grad!.zero_();
        b2!.grad!.zero_();
        return l.item();
      });
      losses.push(loss);
      if (step === 1 || step === 10 || step === 500 || step === 1000) counts.set(step, live());
    }
    assert.ok(losses.every(Number.isFinite), 'every loss is finite');
    assert.equal(counts.get(1000), counts.get(10), `live tensors after step 10 (${counts.get(10)}) and step 1000 (${counts.get(1000)})`);
    assert.equal(counts.get(500), counts.get(10));
    // 6 inputs/params + the two in-place-zeroed .grad handles
    assert.equal(counts.get(1000), before + 8);
    assert.ok(losses[999]! < losses[0]!, `the loss went down (${losses[0]} -> ${losses[999]})`);
    torch.dispose([x, y, ...params]);
    assert.equal(live(), before);
  });
});

describe('modules free their temporaries', () => {
  /** Makes three temporaries and returns one new tensor. */
  class Busy extends nn.Module {
    forward(x: Tensor): Tensor {
      const a = x.mul(2);
      const b = a.add(1);
      return b.relu().neg();
    }
  }

  tensorTest("a registered child's forward frees what it does not return, as Python frees locals", () => {
    class Parent extends nn.Module {
      readonly child = this.registerModule('child', new Busy());
      liveAfterChild = 0;
      forward(x: Tensor): Tensor {
        const before = torch.liveTensors();
        const y = this.child.forward(x);
        this.liveAfterChild = torch.liveTensors() - before;
        return y;
      }
    }
    const p = new Parent();
    torch.tidy(() => {
      const x = torch.ones([4]);
      const y = p.forward(x);
      assert.equal(p.liveAfterChild, 1, "only the child's result outlives its forward");
      assert.deepEqual(Array.from(y.toArray() as Float32Array), [-3, -3, -3, -3]);
    });
    // An unregistered module is plain code: its temporaries belong to the caller's scope.
    torch.tidy(() => {
      const before = torch.liveTensors();
      new Busy().forward(torch.ones([4]));
      assert.equal(torch.liveTensors() - before, 5);
    });
  });

  tensorTest('nn.chainLink frees dead links of a hand-written chain, keeping the input and the live list', () => {
    const layers = Array.from({ length: 6 }, () => new Busy());
    torch.tidy(() => {
      const x = torch.ones([4]);
      const kept: Tensor[] = [];
      const before = torch.liveTensors();
      let y: Tensor = x;
      layers.forEach((m, i) => {
        y = nn.chainLink(y, (t: Tensor) => m.forward(t), [x, ...kept]);
        if (i === 2) kept.push(y);
      });
      assert.equal(torch.liveTensors() - before, 2, 'the kept link and the result');
      assert.equal(x.numel, 4, 'the input is still alive');
      assert.equal(kept[0]!.numel, 4);
    });
  });

  tensorTest('nn.Sequential frees each link at once and still trains', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 8), new nn.ReLU({ inplace: true }), new nn.Linear(8, 1));
    try {
      torch.tidy(() => {
        const x = torch.randn([5, 3]);
        const before = torch.liveTensors();
        const out = seq.forward(x) as Tensor;
        assert.equal(torch.liveTensors() - before, 1);
        out.sum().backward();
        for (const p of seq.parameters()) assert.ok(p.grad !== null);
      });
    } finally {
      seq.dispose();
    }
  });
});
