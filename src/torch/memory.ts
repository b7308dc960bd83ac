// torch.cpu: the statistics and the cache of segkit's CPU tensor allocator (native/allocator.cc).
import { native } from './native.js';
import { checkInt, invalidParameterError } from '../validate.js';

/** As torch.cuda.memory_stats reports for the GPU, for segkit's CPU tensor memory. */
export interface MemoryStats {
  /** Bytes held by live tensors (block sizes; large blocks are rounded up to 4 KiB pages). */
  allocatedBytes: number;
  peakAllocatedBytes: number;
  /** Bytes of freed tensor memory kept resident for reuse. */
  cachedBytes: number;
  peakCachedBytes: number;
  /** Memory the process holds for tensors: allocated plus cached. */
  reservedBytes: number;
  peakReservedBytes: number;
  /** Tensor allocations served; of those, large ones (128 KiB up) served wholly from cached pages, and large ones that needed fresh pages. */
  allocations: number;
  cacheHits: number;
  cacheMisses: number;
  /** Blocks from malloc (small ones, under 128 KiB, never cached) and large ones that needed fresh pages; blocks given back to malloc and runs of cached pages released to the kernel. */
  osAllocations: number;
  osFrees: number;
  /** The most bytes the cache keeps now (setCacheLimit; under 'auto', the most bytes live tensors have held, at least 1 GiB). */
  cacheLimit: number;
  /** Whether the limit is 'auto' (the default). */
  cacheLimitAuto: boolean;
}

/** The allocator's counters now. Process-wide: worker threads share the allocator. */
export function memoryStats(): MemoryStats {
  return native.memoryStats();
}

/** Gives every cached page back to the system (torch.cuda.empty_cache for the CPU). */
export function emptyCache(): void {
  native.emptyCache();
}

/** Starts the peak counters over from the current values. */
export function resetPeakMemoryStats(): void {
  native.resetPeakMemoryStats();
}

/**
 * The most bytes of freed tensor memory kept resident for reuse (the least recently freed go back
 * first). 'auto', the default: the most bytes live tensors have held at once, at least 1 GiB, so
 * a step as large as the largest so far finds all its memory resident (as PyTorch's CUDA caching
 * allocator keeps everything); idle memory after a big step stays until emptyCache(). A number
 * caps it for good; 0 turns the cache off: tensor memory comes from the C library's malloc,
 * which gives large blocks back to the system when they are freed, at the cost of a page fault
 * per 4 KiB of every large tensor allocated again.
 */
export function setCacheLimit(bytes: number | 'auto'): void {
  if (bytes === 'auto') return native.setCacheLimit(-1);
  if (typeof bytes !== 'number') throw invalidParameterError('cpu.setCacheLimit', 'bytes', "a non-negative integer or 'auto'", bytes);
  native.setCacheLimit(checkInt('cpu.setCacheLimit', 'bytes', bytes, { min: 0 }));
}

/** The limit in force now, in bytes (under 'auto', what it has grown to). */
export function getCacheLimit(): number {
  return native.getCacheLimit();
}

export const cpu = { memoryStats, emptyCache, resetPeakMemoryStats, setCacheLimit, getCacheLimit };

// SEGKIT_CPU_CACHE_LIMIT, in bytes, sets the limit for a process without code (0: no cache).
const fromEnv = process.env.SEGKIT_CPU_CACHE_LIMIT;
if (fromEnv !== undefined && fromEnv !== '') {
  const bytes = Number(fromEnv);
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw invalidParameterError('segkit', 'SEGKIT_CPU_CACHE_LIMIT', 'a number of bytes (a non-negative integer)', fromEnv, RangeError);
  }
  native.setCacheLimit(bytes);
}
