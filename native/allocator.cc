// segkit's CPU allocator for tensor memory, installed with c10::SetCPUAllocator when the addon
// loads. glibc maps each block above its mmap threshold fresh from the kernel and unmaps it on
// free, so every large activation of every step costs page faults (the kernel zeroes each new
// page): a training step of a conv net spends a third of its time there. Blocks from
// kCachedFrom bytes up come from segkit's own heap (heap.h), whose freed pages stay resident and
// serve the next requests of any size that fits, as PyTorch's CUDA caching allocator does for GPU
// memory; smaller ones go straight to malloc, which keeps them in its own arenas anyway. At most
// `limit` bytes of freed pages stay resident, the least recently freed going back to the kernel
// first; by default (limit -1, "auto") that is the most bytes live tensors have held at once
// (at least 1 GiB), so a step that repeats the largest one so far finds all its memory resident:
// a fixed 1 GiB made every training step of a 2 GB net fault 900 MB of pages in again. Only
// tensor memory passes through here: the host's malloc is untouched.
#include "common.h"
#include "heap.h"

#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <mutex>

namespace segkit {
namespace {

constexpr size_t kAlignment = 64;  // c10's gAlignment: what AVX-512 kernels expect
constexpr size_t kCachedFrom = 128 * 1024;  // glibc's default mmap threshold

struct Stats {
  int64_t allocated = 0;       // bytes in live tensors
  int64_t peakAllocated = 0;
  int64_t cached = 0;          // bytes of freed pages kept resident for reuse
  int64_t peakCached = 0;
  int64_t reserved = 0;        // allocated + cached: the memory the process holds for tensors
  int64_t peakReserved = 0;
  int64_t allocations = 0;     // calls that returned memory
  int64_t cacheHits = 0;       // of those, large ones served wholly from resident cached pages
  int64_t cacheMisses = 0;     // of those, large ones that needed fresh pages
  int64_t osAllocations = 0;   // blocks from malloc, and large blocks that needed fresh pages
  int64_t osFrees = 0;         // blocks given back to malloc, and runs of cached pages released
};

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    void* p = const_cast<CachingCpuAllocator*>(this)->take(n);
    return {p, p, &deleter, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &deleter; }

  static CachingCpuAllocator& instance() {
    // Never destroyed: tensors may be freed by static destructors after this file's would run.
    static auto* a = new CachingCpuAllocator();
    return *a;
  }

  /** bytes >= 0: a fixed limit; -1: auto (the peak of live tensor bytes, at least kAutoFloor). */
  void setLimit(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
    trimTo(effectiveLimit());
  }
  int64_t limit() {
    std::lock_guard<std::mutex> lock(mu_);
    return effectiveLimit();
  }
  bool autoLimit() {
    std::lock_guard<std::mutex> lock(mu_);
    return limit_ < 0;
  }
  void emptyCache() {
    std::lock_guard<std::mutex> lock(mu_);
    trimTo(0);
  }
  Stats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void resetPeaks() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peakAllocated = stats_.allocated;
    stats_.peakCached = stats_.cached;
    stats_.peakReserved = stats_.reserved;
  }

 private:
  static void deleter(void* p) { instance().give(p); }

  void* take(size_t n) {
    if (n == 0) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    void* p = nullptr;
    // Limit 0: no cache, glibc's malloc for everything (which torch.setAllocatorCache can tune).
    if (n >= kCachedFrom && limit_ != 0 && heapReady()) {
      Heap::Carved c = heap_.take(n);
      if (c.ptr != nullptr) {
        if (c.coldBytes == 0) {
          stats_.cacheHits++;
        } else {
          stats_.cacheMisses++;
          stats_.osAllocations++;
        }
        stats_.cached = static_cast<int64_t>(heap_.warmFreeBytes());
        account(c.size);
        return c.ptr;
      }
      stats_.cacheMisses++;  // the heap's address space is full: malloc serves it, uncached
    }
    p = osAlloc(n);
    if (p == nullptr && stats_.cached > 0) {  // out of memory: what the cache holds goes back first
      trimTo(0);
      p = osAlloc(n);
    }
    if (p == nullptr) {
      throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                       "DefaultCPUAllocator: not enough memory: you tried to allocate " + std::to_string(n) + " bytes.");
    }
    account(n);
    return p;
  }

  void account(size_t size) {
    stats_.allocated += static_cast<int64_t>(size);
    stats_.peakAllocated = std::max(stats_.peakAllocated, stats_.allocated);
    highWater_ = std::max(highWater_, stats_.allocated);
    stats_.allocations++;
    updateReserved();
  }

  void give(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (heap_.owns(p)) {
      stats_.allocated -= static_cast<int64_t>(heap_.give(p));
      stats_.cached = static_cast<int64_t>(heap_.warmFreeBytes());
      trimTo(effectiveLimit());
      return;
    }
    char* base = static_cast<char*>(p) - kAlignment;
    stats_.allocated -= static_cast<int64_t>(*reinterpret_cast<size_t*>(base));
    std::free(base);
    stats_.osFrees++;
    updateReserved();
  }

  int64_t effectiveLimit() const { return limit_ >= 0 ? limit_ : std::max(kAutoFloor, highWater_); }

  void trimTo(int64_t bytes) {
    stats_.osFrees += heap_.trimTo(static_cast<size_t>(std::max<int64_t>(0, bytes)));
    stats_.cached = static_cast<int64_t>(heap_.warmFreeBytes());
    updateReserved();
  }

  void updateReserved() {
    stats_.reserved = stats_.allocated + stats_.cached;
    stats_.peakReserved = std::max(stats_.peakReserved, stats_.reserved);
    stats_.peakCached = std::max(stats_.peakCached, stats_.cached);
  }

  bool heapReady() {
    if (!heapTried_) {
      heapTried_ = true;
      heapOk_ = heap_.init();
    }
    return heapOk_;
  }

  // A block from malloc carries its size in a header one alignment unit long, so freeing it
  // needs no lookup (a map of live blocks cost a hash insert and erase per small tensor).
  void* osAlloc(size_t size) {
    void* p = nullptr;
    if (posix_memalign(&p, kAlignment, size + kAlignment) != 0) return nullptr;
    *static_cast<size_t*>(p) = size;
    stats_.osAllocations++;
    return static_cast<char*>(p) + kAlignment;
  }

  std::mutex mu_;
  Heap heap_;
  bool heapTried_ = false, heapOk_ = false;
  Stats stats_;
  static constexpr int64_t kAutoFloor = int64_t{1} << 30;
  int64_t limit_ = -1;
  int64_t highWater_ = 0;  // the auto limit's measure: peakAllocated that resetPeaks leaves alone
};

SK_FN(SetCacheLimit) {
  SK_ARGS(1);
  SK_ENTRY("setCacheLimit", {
    double bytes = numberArg(env, argv[0], "bytes");
    // -1: auto (validated as 'auto' in TypeScript).
    if (!(bytes >= -1) || bytes > 9007199254740991.0) throw rangeError("bytes must be a non-negative integer, got " + std::to_string(bytes));
    CachingCpuAllocator::instance().setLimit(static_cast<int64_t>(bytes));
    return nullptr;
  })
}

SK_FN(GetCacheLimit) {
  SK_ARGS(0);
  return makeNumber(env, static_cast<double>(CachingCpuAllocator::instance().limit()));
}

SK_FN(EmptyCache) {
  SK_ARGS(0);
  SK_ENTRY("emptyCache", {
    CachingCpuAllocator::instance().emptyCache();
    return nullptr;
  })
}

SK_FN(ResetPeakMemoryStats) {
  SK_ARGS(0);
  SK_ENTRY("resetPeakMemoryStats", {
    CachingCpuAllocator::instance().resetPeaks();
    return nullptr;
  })
}

SK_FN(MemoryStats) {
  SK_ARGS(0);
  SK_ENTRY("memoryStats", {
    Stats s = CachingCpuAllocator::instance().stats();
    napi_value out;
    napi_create_object(env, &out);
    auto set = [&](const char* k, int64_t v) { napi_set_named_property(env, out, k, makeNumber(env, static_cast<double>(v))); };
    set("allocatedBytes", s.allocated);
    set("peakAllocatedBytes", s.peakAllocated);
    set("cachedBytes", s.cached);
    set("peakCachedBytes", s.peakCached);
    set("reservedBytes", s.reserved);
    set("peakReservedBytes", s.peakReserved);
    set("allocations", s.allocations);
    set("cacheHits", s.cacheHits);
    set("cacheMisses", s.cacheMisses);
    set("osAllocations", s.osAllocations);
    set("osFrees", s.osFrees);
    set("cacheLimit", CachingCpuAllocator::instance().limit());
    napi_value autoLimit;
    napi_get_boolean(env, CachingCpuAllocator::instance().autoLimit(), &autoLimit);
    napi_set_named_property(env, out, "cacheLimitAuto", autoLimit);
    return out;
  })
}

}  // namespace

void initAllocator(napi_env env, napi_value exports, Env* e) {
  // Once per process: worker threads load the addon again but share the allocator.
  static std::once_flag installed;
  std::call_once(installed, [] { c10::SetCPUAllocator(&CachingCpuAllocator::instance(), /*priority=*/1); });
  registerFunction(env, exports, e, "setCacheLimit", SetCacheLimit);
  registerFunction(env, exports, e, "getCacheLimit", GetCacheLimit);
  registerFunction(env, exports, e, "emptyCache", EmptyCache);
  registerFunction(env, exports, e, "resetPeakMemoryStats", ResetPeakMemoryStats);
  registerFunction(env, exports, e, "memoryStats", MemoryStats);
}

}  // namespace segkit
