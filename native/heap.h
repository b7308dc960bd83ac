// The heap behind segkit's CPU tensor allocator: one reserved range of address space carved into
// blocks, best fit, split on allocation and merged with free neighbours on free (an expandable
// segment, in the words of PyTorch's CUDA allocator). Size classes per block kept freed blocks
// of sizes nobody asked for again, so reserved memory ran 40-50% above the live peak; here any
// free run of pages serves any request it can hold. Freed pages stay resident (warm) until the
// cache limit releases them with madvise(MADV_DONTNEED) (cold: address space only, faulted in
// again when reused). Not thread-safe: the allocator holds its mutex around every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace segkit {

class Heap {
 public:
  // What one carve did: bytes of the block, and how many of them were cold (fresh pages).
  struct Carved {
    void* ptr = nullptr;
    size_t size = 0;
    size_t coldBytes = 0;
  };

  // Reserves address space (no memory) once; false where the system refuses any reservation.
  bool init();
  bool owns(const void* p) const {
    auto c = static_cast<const char*>(p);
    return base_ != nullptr && c >= base_ && c < base_ + reserve_;
  }
  // A block of at least n bytes (rounded up to pages), or ptr == nullptr when the reservation is full.
  Carved take(size_t n);
  // Frees the block at p, merging it with free neighbours; returns its size.
  size_t give(void* p);
  // Releases warm free pages, oldest freed first, until at most `bytes` stay warm.
  // Returns the number of ranges released.
  int64_t trimTo(size_t bytes);
  size_t warmFreeBytes() const { return warm_; }

 private:
  struct Block {
    size_t size;
    bool free;
    uint64_t freedAt;  // for the release order
  };
  void addFree(char* at, size_t size, uint64_t freedAt);
  void removeFree(char* at, const Block& b);
  bool grow(size_t bytes);
  // The cold ranges (released or never touched pages) of free blocks, disjoint and merged.
  void addCold(char* from, char* to);
  size_t removeCold(char* from, char* to);  // returns the bytes that were cold
  size_t coldIn(char* from, char* to) const;

  char* base_ = nullptr;
  size_t reserve_ = 0;
  char* top_ = nullptr;        // blocks cover [base_, top_)
  char* committed_ = nullptr;  // read-write up to here
  size_t warm_ = 0;            // resident bytes of free blocks
  uint64_t clock_ = 0;
  std::map<char*, Block> blocks_;                  // every block, by address
  std::set<std::pair<size_t, char*>> free_;        // free blocks by size: best fit
  std::set<std::pair<uint64_t, char*>> releasable_;  // free blocks with warm pages, oldest first
  std::map<char*, char*> cold_;                    // [first, second)
};

}  // namespace segkit
