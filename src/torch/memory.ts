// torch.cpu: the statistics and the cache of segkit's CPU tensor allocator (native/allocator.cc).
import { native } from './native.js';
import { checkInt, invalidParameterError } from '../validate.js';

/** As torch.cuda.memory_stats reports for the GPU, for segkit's CPU tensor memory. */
export interface MemoryStats {
  /** Bytes held by live tensors (block sizes, rounded up to the allocator's size classes). */
  allocatedBytes: number;
  peakAllocatedBytes: number;
  /** Bytes of freed blocks kept for reuse. */
  cachedBytes: number;
  peakCachedBytes: number;
  /** Bytes taken from the C library for tensors: allocated plus cached. */
  reservedBytes: number;
  peakReservedBytes: number;
  /** Tensor allocations served; of those, large ones served from the cache and large ones it had no block for. */
  allocations: number;
  cacheHits: number;
  cacheMisses: number;
  /** Blocks taken from and given back to the C library (small ones, under 128 KiB, are never cached). */
  osAllocations: number;
  osFrees: number;
  /** The most bytes the cache keeps (setCacheLimit). */
  cacheLimit: number;
}

/** The allocator's counters now. Process-wide: worker threads share the allocator. */
export function memoryStats(): MemoryStats {
  return native.memoryStats();
}

/** Gives every cached block back to the C library (torch.cuda.empty_cache for the CPU). */
export function emptyCache(): void {
  native.emptyCache();
}

/** Starts the peak counters over from the current values. */
export function resetPeakMemoryStats(): void {
  native.resetPeakMemoryStats();
}

/**
 * The most bytes of freed tensor memory kept for reuse (default 1 GiB; the least recently freed
 * blocks go first). 0 turns the cache off: every block goes back to the C library when freed,
 * which costs a page fault per 4 KiB of every large tensor allocated again.
 */
export function setCacheLimit(bytes: number): void {
  native.setCacheLimit(checkInt('cpu.setCacheLimit', 'bytes', bytes, { min: 0 }));
}

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
