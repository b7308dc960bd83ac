// Threads, RNG and build information.
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { native } from './native.js';
import { Tensor } from './tensor.js';
import { checkBool, checkInt, invalidParameterError } from '../validate.js';

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Intra-op threads for this JS thread's ops (libtorch's set_num_threads). */
export function setNumThreads(n: number): void {
  native.setNumThreads(checkInt('setNumThreads', 'n', n, { min: 1 }));
}

/** Seeds libtorch's generators: the same seed gives the same numbers as PyTorch's torch.manual_seed. */
export function manualSeed(seed: number): void {
  if (!(Number.isSafeInteger(seed) && seed >= 0)) {
    throw invalidParameterError(
      'manualSeed',
      'seed',
      'a non-negative safe integer',
      seed,
      typeof seed === 'number' ? RangeError : TypeError,
    );
  }
  native.manualSeed(seed);
}

/** The CPU generator's state (a uint8 tensor), for bit-exact resumption. */
export function getRngState(): Tensor {
  return new Tensor(native.getRngState());
}

export function setRngState(state: Tensor): void {
  if (!(state instanceof Tensor)) throw invalidParameterError('setRngState', 'state', 'the Tensor getRngState returned', state);
  native.setRngState(state.id);
}

/**
 * Keeps freed tensor memory (blocks up to `bytes`) in the process for reuse instead of
 * returning it to the kernel at every free. With glibc's defaults each training step of a
 * conv net maps and unmaps its large activations, thousands of page faults a step; with
 * 256 MiB the ResNet-style step in bench/ ran up to 1.5x faster. The process then holds on
 * to its peak memory. Process-wide (it sets glibc's mmap and trim thresholds, as the
 * GLIBC_TUNABLES variable would). 0 sets glibc's starting thresholds (128 KiB) but, as any
 * mallopt call does, turns off glibc's dynamic mmap threshold, which makes a training step
 * fault about five times as many pages as never calling this: to keep glibc's own behaviour,
 * don't call it. Returns false where the C library is not glibc.
 */
export function setAllocatorCache(bytes: number): boolean {
  return native.setAllocatorCache(checkInt('setAllocatorCache', 'bytes', bytes, { min: 0, max: 2 ** 31 - 1 }));
}

function cudaIndex(device: unknown, op: string): number {
  const n = native.info().cudaDevices;
  if (!Number.isInteger(device) || (device as number) < 0 || (device as number) >= n) {
    const e = invalidParameterError(
      op,
      'device',
      `a CUDA device index in [0, ${n})`,
      device,
      typeof device === 'number' ? RangeError : TypeError,
    );
    if (n === 0) e.message += ' (this libtorch has no CUDA device)';
    throw e;
  }
  return device as number;
}

export const cuda = {
  isAvailable(): boolean {
    return native.info().cuda;
  },
  deviceCount(): number {
    return native.info().cudaDevices;
  },
  /** CUDA device `device`'s generator state (a uint8 tensor), as torch.cuda.get_rng_state. */
  getRngState(device = 0): Tensor {
    return new Tensor(native.getRngState(cudaIndex(device, 'cuda.getRngState')));
  },
  setRngState(state: Tensor, device = 0): void {
    if (!(state instanceof Tensor)) throw invalidParameterError('cuda.setRngState', 'state', 'the Tensor cuda.getRngState returned', state);
    native.setRngState(state.id, cudaIndex(device, 'cuda.setRngState'));
  },
};

function flag(name: string, where: string, key: string) {
  return {
    get: (): boolean => native.backendFlag(name),
    set: (v: boolean): void => {
      native.backendFlag(name, checkBool(where, key, v));
    },
    enumerable: true,
  };
}

/**
 * torch.backends' switches, as PyTorch spells them (camelCase). On CUDA, convolutions default to
 * TF32 (cudnn.allowTF32 true) and matmuls to full float32 (cuda.matmul.allowTF32 false), as in
 * PyTorch: set both false for float32-exact results, true for speed on Ampere and later.
 * Without CUDA they read PyTorch's defaults and setting them changes nothing.
 */
let winograd = process.env.SEGKIT_WINOGRAD !== '0';
let winogradKernels: boolean | undefined;

function winogradAvailable(): boolean {
  winogradKernels ??= native.winogradAvailable();
  return winogradKernels;
}

/** Whether F.conv2d runs eligible 3x3 convolutions through oneDNN's Winograd kernels: switched on and available. */
export function winogradEnabled(): boolean {
  return winograd && winogradAvailable();
}

export const backends = {
  /**
   * segkit's own switch: float32 3x3 stride-1 convolutions on the CPU (channels multiples of 16,
   * not 16 to 16, no autocast; dilated ones as polyphase components, src/torch/nn/functional/
   * conv-winograd.ts) run through oneDNN's Winograd F(4x4, 3x3) kernels, forward and backward, 2-3x
   * faster than the direct convolution libtorch calls, within about 1e-6 relative of it. On by
   * default; false (or SEGKIT_WINOGRAD=0) gives libtorch's own convolution, bit for bit PyTorch's.
   * isAvailable(): whether oneDNN has the kernels here (an AVX-512 CPU, segkit built with
   * libdnnl-dev); where not, enabled changes nothing.
   */
  winograd: Object.defineProperties({ isAvailable: winogradAvailable } as { enabled: boolean; isAvailable: () => boolean }, {
    enabled: {
      enumerable: true,
      get: () => winograd,
      set: (v: unknown) => {
        winograd = checkBool('backends.winograd', 'enabled', v);
      },
    },
  }),
  cudnn: Object.defineProperties({} as { allowTF32: boolean; benchmark: boolean; deterministic: boolean }, {
    allowTF32: flag('cudnn.allow_tf32', 'backends.cudnn', 'allowTF32'),
    benchmark: flag('cudnn.benchmark', 'backends.cudnn', 'benchmark'),
    deterministic: flag('cudnn.deterministic', 'backends.cudnn', 'deterministic'),
  }),
  cuda: {
    matmul: Object.defineProperties({} as { allowTF32: boolean }, {
      allowTF32: flag('cuda.matmul.allow_tf32', 'backends.cuda.matmul', 'allowTF32'),
    }),
  },
};

export interface BuildInfo {
  libtorch: string;
  cuda: boolean;
  cudaDevices: number;
  threads: number;
  hardwareConcurrency: number;
  cpuCapability: string;
  avx512: boolean;
  bf16: boolean;
  amx: boolean;
  blas: string;
  mkldnn: boolean;
  config: string;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** What segkit runs on: libtorch version and build, threads, CPU features. */
export function buildInfo(): BuildInfo {
  const i = native.info();
  const flags = cpuFlags();
  const cap = /CPU capability usage: (\S+)/.exec(i.config)?.[1] ?? 'unknown';
  const blas = /BLAS_INFO=([^,\s]+)/.exec(i.config)?.[1] ?? 'unknown';
  return {
    libtorch: i.version,
    cuda: i.cuda,
    cudaDevices: i.cudaDevices,
    threads: native.getNumThreads(),
    hardwareConcurrency: i.hardwareConcurrency,
    cpuCapability: cap,
    avx512: flags.has('avx512f'),
    bf16: flags.has('avx512_bf16') || flags.has('amx_bf16'),
    amx: flags.has('amx_tile'),
    blas,
    mkldnn: i.mkldnn,
    config: i.config,
  };
}

// libtorch starts with one intra-op thread here; PyTorch users expect all cores.
// OMP_NUM_THREADS, when set, wins, as it does for PyTorch.
if (!process.env.OMP_NUM_THREADS) native.setNumThreads(Math.max(1, availableParallelism()));
