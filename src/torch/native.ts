// Loads the compiled addon. The interface mirrors native/*.cc one to one; everything above
// it validates arguments first, so the addon's own checks are a second line of defence.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { MemoryStats } from './memory.js';

export interface OpArgInfo {
  name: string;
  type: string;
  hasDefault: boolean;
  kwargOnly: boolean;
  isWrite: boolean;
}
export interface OpInfo {
  name: string;
  schema: string;
  args: OpArgInfo[];
  returns: string[];
}
export interface NativeInfo {
  version: string;
  cuda: boolean;
  cudaDevices: number;
  config: string;
  parallel: string;
  mkldnn: boolean;
  hardwareConcurrency: number;
}

export interface Native {
  fromBuffer(data: ArrayBufferView | ArrayBuffer, dtype: number, shape: number[]): number;
  toBuffer(id: number): ArrayBuffer;
  item(id: number): number;
  free(id: number): void;
  live(): number;
  shape(id: number): number[];
  strides(id: number): number[];
  dtype(id: number): number;
  device(id: number): string;
  isContiguous(id: number, memoryFormat: number): boolean;
  requiresGrad(id: number): boolean;
  setRequiresGrad(id: number, flag: boolean): void;
  isLeaf(id: number): boolean;
  gradFn(id: number): string | null;
  grad(id: number, cachedId: number): number | null;
  setGrad(id: number, gradId: number): void;
  sameStorage(a: number, b: number): boolean;
  setData(id: number, srcId: number): void;
  op(name: string, overload: string): number;
  overloads(name: string): string[];
  opInfo(handle: number): OpInfo;
  call(handle: number, ...args: unknown[]): any;
  callVoid(handle: number, ...args: unknown[]): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  withGradMode<T>(enabled: boolean, fn: () => T): T;
  withInferenceMode<T>(enabled: boolean, fn: () => T): T;
  isGradEnabled(): boolean;
  withAutocast<T>(deviceType: string, enabled: boolean, dtype: number, fn: () => T): T;
  isAutocastEnabled(deviceType: string): boolean;
  isInferenceMode(): boolean;
  manualSeed(seed: number): void;
  getRngState(device?: number | null): number;
  setRngState(id: number, device?: number | null): void;
  backward(tensors: number[], grads: (number | null)[] | null, retainGraph: boolean | null, createGraph: boolean): void;
  info(): NativeInfo;
  setAllocatorCache(bytes: number): boolean;
  setCacheLimit(bytes: number): void;
  getCacheLimit(): number;
  emptyCache(): void;
  resetPeakMemoryStats(): void;
  memoryStats(): MemoryStats;
  backendFlag(name: string, value?: boolean | null): boolean;
  denseCrf(
    image: Uint8Array | Uint8ClampedArray,
    width: number,
    height: number,
    probabilities: Float32Array,
    classes: number,
    iterations: number,
    appearanceWeight: number,
    appearanceXyStd: number,
    appearanceRgbStd: number,
    smoothnessWeight: number,
    smoothnessXyStd: number,
  ): Float32Array;
  permutohedralFilter(features: Float32Array, dims: number, values: Float32Array, channels: number): Float32Array;
  /** Whether segkit::conv2d_winograd has oneDNN Winograd kernels here (built with libdnnl-dev, AVX-512 CPU). */
  winogradAvailable(): boolean;
  fusedAdam(
    params: number[],
    grads: number[],
    expAvgs: number[],
    expAvgSqs: number[],
    maxExpAvgSqs: number[] | null,
    stepSizes: number[],
    biasCorrection2Sqrts: number[],
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    maximize: boolean,
  ): void;
}

function packageRoot(): string {
  // src/torch/native.ts and dist/torch/native.js both sit two folders below the root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function load(): Native {
  const root = packageRoot();
  const candidates = [join(root, 'build', 'Release', 'segkit.node'), join(root, 'build', 'Debug', 'segkit.node')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new Error(
      `segkit: the native addon is not built (looked for ${candidates[0]}). ` +
        'Run `npm install` (or `node scripts/build-native.mjs`) in the segkit folder; it needs libtorch ' +
        '(Debian/Ubuntu: apt-get install libtorch-dev).',
    );
  }
  return createRequire(import.meta.url)(file) as Native;
}

export const native: Native = load();
