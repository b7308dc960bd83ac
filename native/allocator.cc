// segkit's CPU allocator for tensor memory, installed with c10::SetCPUAllocator when the addon
// loads. glibc maps each block above its mmap threshold fresh from the kernel and unmaps it on
// free, so every large activation of every step costs page faults (the kernel zeroes each new
// page): a training step of a conv net spends a third of its time there. Freed blocks from
// kCachedFrom bytes up are kept here in size classes and handed out again, as PyTorch's CUDA
// caching allocator does for GPU memory; smaller ones go straight back to malloc, which keeps
// them in its own arenas anyway. The cache holds at most `limit` bytes, the least recently freed
// blocks leaving first. Only tensor memory passes through here: the host's malloc is untouched.
#include "common.h"

#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

namespace segkit {
namespace {

constexpr size_t kAlignment = 64;  // c10's gAlignment: what AVX-512 kernels expect
constexpr size_t kCachedFrom = 128 * 1024;  // glibc's default mmap threshold
// A freed block serves a request of its class or up to a quarter smaller; eight classes per
// octave keep the rounding below 12.5%.
constexpr size_t kClassesPerOctave = 8;

size_t sizeClass(size_t n) {
  size_t octave = size_t{1} << (63 - __builtin_clzll(n));
  size_t step = octave / kClassesPerOctave;
  return (n + step - 1) / step * step;
}

struct Stats {
  int64_t allocated = 0;       // bytes in live tensors
  int64_t peakAllocated = 0;
  int64_t cached = 0;          // bytes of freed blocks kept for reuse
  int64_t peakCached = 0;
  int64_t reserved = 0;        // allocated + cached + rounding: what the process holds for tensors
  int64_t peakReserved = 0;
  int64_t allocations = 0;     // calls that returned memory
  int64_t cacheHits = 0;       // of those, served from the cache
  int64_t cacheMisses = 0;     // of those, blocks of a cached size the cache had none for
  int64_t osAllocations = 0;   // blocks taken from malloc
  int64_t osFrees = 0;         // blocks given back to malloc
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

  void setLimit(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
    trimTo(limit_);
  }
  int64_t limit() {
    std::lock_guard<std::mutex> lock(mu_);
    return limit_;
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
  struct Cached {
    void* ptr;
    size_t size;
  };
  using Lru = std::list<Cached>;  // front: most recently freed

  static void deleter(void* p) { instance().give(p); }

  void* take(size_t n) {
    if (n == 0) return nullptr;
    std::lock_guard<std::mutex> lock(mu_);
    size_t size = n < kCachedFrom ? n : sizeClass(n);
    void* p = nullptr;
    if (size >= kCachedFrom) {
      auto it = bySize_.lower_bound(size);
      if (it != bySize_.end() && it->first <= size + size / 4) {
        size = it->first;
        p = it->second->ptr;
        lru_.erase(it->second);
        bySize_.erase(it);
        stats_.cached -= static_cast<int64_t>(size);
        stats_.cacheHits++;
      }
    }
    if (p == nullptr) {
      if (size >= kCachedFrom) stats_.cacheMisses++;
      p = osAlloc(size);
      if (p == nullptr && stats_.cached > 0) {  // out of memory: what the cache holds goes back first
        trimTo(0);
        p = osAlloc(size);
      }
      if (p == nullptr) {
        throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                         "DefaultCPUAllocator: not enough memory: you tried to allocate " + std::to_string(n) + " bytes.");
      }
    }
    live_.emplace(p, size);
    stats_.allocated += static_cast<int64_t>(size);
    stats_.peakAllocated = std::max(stats_.peakAllocated, stats_.allocated);
    stats_.allocations++;
    return p;
  }

  void give(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) {  // not ours: cannot happen through DataPtr, but never corrupt the heap
      std::free(p);
      return;
    }
    size_t size = it->second;
    live_.erase(it);
    stats_.allocated -= static_cast<int64_t>(size);
    if (size < kCachedFrom || static_cast<int64_t>(size) > limit_) {
      osFree(p, size);
      return;
    }
    trimTo(limit_ - static_cast<int64_t>(size));
    lru_.push_front({p, size});
    bySize_.emplace(size, lru_.begin());
    stats_.cached += static_cast<int64_t>(size);
    stats_.peakCached = std::max(stats_.peakCached, stats_.cached);
  }

  // Frees the least recently cached blocks until at most `bytes` stay cached.
  void trimTo(int64_t bytes) {
    while (stats_.cached > bytes && !lru_.empty()) {
      Cached c = lru_.back();
      auto range = bySize_.equal_range(c.size);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second->ptr == c.ptr) {
          bySize_.erase(it);
          break;
        }
      }
      lru_.pop_back();
      stats_.cached -= static_cast<int64_t>(c.size);
      osFree(c.ptr, c.size);
    }
  }

  void* osAlloc(size_t size) {
    void* p = nullptr;
    if (posix_memalign(&p, kAlignment, size) != 0) return nullptr;
    stats_.osAllocations++;
    stats_.reserved += static_cast<int64_t>(size);
    stats_.peakReserved = std::max(stats_.peakReserved, stats_.reserved);
    return p;
  }

  void osFree(void* p, size_t size) {
    std::free(p);
    stats_.osFrees++;
    stats_.reserved -= static_cast<int64_t>(size);
  }

  std::mutex mu_;
  std::unordered_map<void*, size_t> live_;
  std::multimap<size_t, Lru::iterator> bySize_;
  Lru lru_;
  Stats stats_;
  int64_t limit_ = int64_t{1} << 30;
};

SK_FN(SetCacheLimit) {
  SK_ARGS(1);
  SK_ENTRY("setCacheLimit", {
    double bytes = numberArg(env, argv[0], "bytes");
    if (!(bytes >= 0) || bytes > 9007199254740991.0) throw rangeError("bytes must be a non-negative integer, got " + std::to_string(bytes));
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
