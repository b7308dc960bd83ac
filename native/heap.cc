#include "heap.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

namespace segkit {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kCommit = size_t{2} << 20;  // address space made writable in these steps

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

bool Heap::init() {
  // Address space, not memory: twice the RAM (tensors past that would swap anyway), within half
  // of any address-space limit. PROT_NONE until used, so nothing is committed up front; without
  // MAP_NORESERVE, so making a range writable (grow) goes through the kernel's overcommit check
  // as malloc's mmap does: an impossible tensor is refused there, not killed when touched.
  const auto ram = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t want = std::min(ram * 2, size_t{1} << 40);
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) want = std::min<size_t>(want, limit.rlim_cur / 2);
  for (want = roundUp(want, kCommit); want >= (size_t{1} << 30); want /= 2) {
    // kCommit more, to start on a 2 MiB boundary (where the kernel can use huge pages).
    void* p = mmap(nullptr, want + kCommit, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) continue;
    base_ = reinterpret_cast<char*>(roundUp(reinterpret_cast<uintptr_t>(p), kCommit));
    reserve_ = want;
    top_ = committed_ = base_;
    return true;
  }
  return false;
}

bool Heap::grow(size_t bytes) {
  char* newTop = top_ + bytes;
  if (bytes > static_cast<size_t>(base_ + reserve_ - top_)) return false;
  if (newTop > committed_) {
    char* upTo = std::min(base_ + reserve_, base_ + roundUp(static_cast<size_t>(newTop - base_), kCommit));
    if (mprotect(committed_, static_cast<size_t>(upTo - committed_), PROT_READ | PROT_WRITE) != 0) return false;
    committed_ = upTo;
  }
  addCold(top_, newTop);  // never touched: no memory until written
  char* at = top_;
  size_t size = bytes;
  uint64_t freedAt = ++clock_;
  if (!blocks_.empty()) {
    auto last = std::prev(blocks_.end());
    if (last->second.free) {
      at = last->first;
      size += last->second.size;
      freedAt = last->second.freedAt;
      removeFree(last->first, last->second);
    }
  }
  addFree(at, size, freedAt);
  top_ = newTop;
  return true;
}

Heap::Carved Heap::take(size_t n) {
  const size_t size = roundUp(n, kPage);
  auto fit = free_.lower_bound({size, nullptr});
  if (fit == free_.end()) {
    size_t tail = 0;  // a free block at the top grows into the new space
    if (!blocks_.empty() && std::prev(blocks_.end())->second.free) tail = std::prev(blocks_.end())->second.size;
    if (!grow(size - tail)) return {};
    fit = free_.lower_bound({size, nullptr});
  }
  char* at = fit->second;
  const Block b = blocks_.at(at);
  removeFree(at, b);
  const size_t coldBytes = removeCold(at, at + size);
  warm_ -= size - coldBytes;
  blocks_[at] = {size, false, 0};
  if (b.size > size) addFree(at + size, b.size - size, b.freedAt);
  return {at, size, coldBytes};
}

size_t Heap::give(void* p) {
  auto it = blocks_.find(static_cast<char*>(p));
  if (it == blocks_.end() || it->second.free) return 0;
  const size_t size = it->second.size;
  warm_ += size;  // a live block has no cold pages
  char* at = it->first;
  size_t total = size;
  auto next = std::next(it);
  if (next != blocks_.end() && next->second.free) {
    total += next->second.size;
    removeFree(next->first, next->second);
    blocks_.erase(next);
  }
  if (it != blocks_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.free) {
      at = prev->first;
      total += prev->second.size;
      removeFree(prev->first, prev->second);
      blocks_.erase(it);
    }
  }
  addFree(at, total, ++clock_);
  return size;
}

int64_t Heap::trimTo(size_t bytes) {
  int64_t released = 0;
  while (warm_ > bytes && !releasable_.empty()) {
    char* at = releasable_.begin()->second;
    char* end = at + blocks_.at(at).size;
    char* cur = at;
    while (cur < end && warm_ > bytes) {
      auto c = cold_.upper_bound(cur);  // the first cold range starting after cur
      if (c != cold_.begin() && std::prev(c)->second > cur) {
        cur = std::prev(c)->second;  // inside a cold range: skip it
        continue;
      }
      char* warmEnd = c == cold_.end() ? end : std::min(end, c->first);
      char* upTo = std::min(warmEnd, cur + roundUp(warm_ - bytes, kPage));
      madvise(cur, static_cast<size_t>(upTo - cur), MADV_DONTNEED);
      addCold(cur, upTo);
      warm_ -= static_cast<size_t>(upTo - cur);
      released++;
      cur = upTo;
    }
    if (coldIn(at, end) == static_cast<size_t>(end - at)) releasable_.erase(releasable_.begin());
  }
  return released;
}

void Heap::addFree(char* at, size_t size, uint64_t freedAt) {
  blocks_[at] = {size, true, freedAt};
  free_.insert({size, at});
  if (coldIn(at, at + size) < size) releasable_.insert({freedAt, at});
}

void Heap::removeFree(char* at, const Block& b) {
  free_.erase({b.size, at});
  releasable_.erase({b.freedAt, at});
}

void Heap::addCold(char* from, char* to) {
  if (from >= to) return;
  auto it = cold_.upper_bound(from);
  if (it != cold_.begin() && std::prev(it)->second >= from) {
    --it;
    from = it->first;
    to = std::max(to, it->second);
    it = cold_.erase(it);
  }
  while (it != cold_.end() && it->first <= to) {
    to = std::max(to, it->second);
    it = cold_.erase(it);
  }
  cold_.emplace(from, to);
}

size_t Heap::removeCold(char* from, char* to) {
  size_t n = 0;
  auto it = cold_.upper_bound(from);
  if (it != cold_.begin() && std::prev(it)->second > from) --it;
  while (it != cold_.end() && it->first < to) {
    char *a = it->first, *b = it->second;
    it = cold_.erase(it);
    n += static_cast<size_t>(std::min(b, to) - std::max(a, from));
    if (a < from) cold_.emplace(a, from);
    if (b > to) {
      cold_.emplace(to, b);
      break;
    }
  }
  return n;
}

size_t Heap::coldIn(char* from, char* to) const {
  size_t n = 0;
  auto it = cold_.upper_bound(from);
  if (it != cold_.begin() && std::prev(it)->second > from) --it;
  for (; it != cold_.end() && it->first < to; ++it) n += static_cast<size_t>(std::min(it->second, to) - std::max(it->first, from));
  return n;
}

}  // namespace segkit
