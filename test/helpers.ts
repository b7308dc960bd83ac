// Shared test harness: every tensor test runs through `tensorTest`, which fails the test when
// it leaves native tensors alive, and a few comparison helpers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { torch, type Tensor } from '../src/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The demo's four regions of real tiles with their labels. */
export const REGIONS = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'demo', 'regions');
/** Four training and two validation tiles of three regions (names under REGIONS): the tiny runs of the training tests. */
export const TINY_TRAIN = [
  'kavre/OAM-1546788-881052-21',
  'kavre/OAM-1546788-881055-21',
  'nairobi/OAM-1263512-1056200-21',
  'zanzibar/OAM-1277168-1083840-21',
];
export const TINY_VAL = ['kavre/OAM-1546789-881052-21', 'nairobi/OAM-1263513-1056200-21'];

/** A node:test test that asserts the live-tensor count is back where it started. */
export function tensorTest(name: string, fn: (t: TestContext) => void | Promise<void>): void {
  test(name, async (t) => {
    const before = torch.liveTensors();
    await fn(t);
    const after = torch.liveTensors();
    assert.equal(after, before, `${name}: ${after - before} tensor(s) leaked`);
  });
}

/** max |a - b| over all elements, after checking shapes match. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual([...a.shape], [...b.shape], `shape mismatch: [${a.shape}] vs [${b.shape}]`);
  return torch.tidy(() => (a.numel === 0 ? 0 : a.double().sub(b.double()).abs().max().item()));
}

export function assertClose(actual: Tensor, expected: Tensor, atol = 1e-5, rtol = 1e-5, what = 'value'): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape [${actual.shape}] vs expected [${expected.shape}]`);
  const ok = torch.tidy(() => {
    const a = actual.double();
    const e = expected.double();
    const tol = e.abs().mul(rtol).add(atol);
    return a.sub(e).abs().le(tol).all().item() === 1;
  });
  if (!ok) assert.fail(`${what}: max |diff| ${maxAbsDiff(actual, expected)} exceeds atol ${atol} + rtol ${rtol}`);
}

/** Asserts fn throws an error of class `kind` whose message matches every pattern. */
export function assertThrows(
  fn: () => unknown,
  kind: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor,
  ...patterns: RegExp[]
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}
