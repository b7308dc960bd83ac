// The permutohedral lattice (Adams, Baek and Davis, "Fast High-Dimensional Filtering Using the
// Permutohedral Lattice", Eurographics 2010): Gaussian filtering in d feature dimensions in
// time linear in the point count, for the dense CRF's message passing (crf.cc). Plain float
// arrays, one thread, no libtorch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace segkit {
namespace lattice {

// Past this many feature dimensions the lattice has so many vertices per point that a
// brute-force filter is the better tool; DeepLab's kernels have 2 and 5. 15 also lets a
// simplex's rank permutation pack into 4 bits per coordinate.
constexpr int kMaxDims = 15;

// A plain loop: std::equal becomes a memcmp call, which costs more than these few ints.
inline bool sameKey(const int32_t* a, const int32_t* b, int length) {
  for (int i = 0; i < length; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Open-addressing hash set of fixed-length int32 keys, numbered in insertion order. Slots hold
// the key's number and 32 bits of its hash, so a probe touches the keys themselves only on a
// likely match: the table stays small enough for the cache, the keys are read once per hit.
class KeyTable {
 public:
  KeyTable(int length, int64_t expected) : length_(length) {
    size_t cap = 64;
    while (static_cast<int64_t>(cap) < 2 * expected) cap <<= 1;
    slots_.assign(cap, Slot{-1, 0});
  }

  int64_t size() const { return static_cast<int64_t>(keys_.size()) / length_; }
  const int32_t* key(int64_t i) const { return &keys_[static_cast<size_t>(i) * length_]; }

  // The key's number, or -1.
  int32_t find(const int32_t* k) const { return find(k, hash(k)); }
  int32_t find(const int32_t* k, uint64_t h) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    const size_t mask = slots_.size() - 1;
    for (size_t s = h & mask;; s = (s + 1) & mask) {
      const Slot& slot = slots_[s];
      if (slot.index < 0) return -1;
      if (slot.tag == tag && same(k, key(slot.index))) return slot.index;
    }
  }

  // The key's number, adding it when new (inserted = true).
  int32_t insert(const int32_t* k, bool* inserted) { return insert(k, hash(k), inserted); }
  int32_t insert(const int32_t* k, uint64_t h, bool* inserted) {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    const size_t mask = slots_.size() - 1;
    size_t s = h & mask;
    for (;; s = (s + 1) & mask) {
      const Slot& slot = slots_[s];
      if (slot.index < 0) break;
      if (slot.tag == tag && same(k, key(slot.index))) {
        *inserted = false;
        return slot.index;
      }
    }
    const int64_t index = size();
    // Row m of the lattice buffers is the absent neighbour, so m itself must fit too.
    if (index >= std::numeric_limits<int32_t>::max() - 1) throw rangeError("too many lattice points");
    keys_.insert(keys_.end(), k, k + length_);
    slots_[s] = Slot{static_cast<int32_t>(index), tag};
    if (static_cast<size_t>(index + 1) * 2 > slots_.size()) grow();
    *inserted = true;
    return static_cast<int32_t>(index);
  }

  // The table is far larger than the cache and probes land at random: callers that know
  // several keys ahead ask for their slots first, so the memory reads overlap instead of
  // waiting one after another.
  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & (slots_.size() - 1)]); }
  // The second read of a probe, once its slot is in cache: the stored key it will compare with.
  void prefetchKey(uint64_t h) const {
    const Slot& slot = slots_[h & (slots_.size() - 1)];
    if (slot.index >= 0 && slot.tag == static_cast<uint32_t>(h >> 32)) __builtin_prefetch(key(slot.index));
  }

  uint64_t hash(const int32_t* k) const {
    uint64_t h = 0x243F6A8885A308D3ull;
    for (int i = 0; i < length_; ++i) h = (h ^ static_cast<uint32_t>(k[i])) * 0x9E3779B97F4A7C15ull;
    // Lattice keys differ in small steps: mix the high bits down before masking the low ones.
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
  }

  void release() {
    std::vector<Slot>().swap(slots_);
    std::vector<int32_t>().swap(keys_);
  }

 private:
  struct Slot {
    int32_t index;
    uint32_t tag;
  };

  bool same(const int32_t* a, const int32_t* b) const { return sameKey(a, b, length_); }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{-1, 0});
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.index < 0) continue;
      size_t s = hash(key(slot.index)) & mask;
      while (slots_[s].index >= 0) s = (s + 1) & mask;
      slots_[s] = slot;
    }
  }

  int length_;
  std::vector<Slot> slots_;
  std::vector<int32_t> keys_;
};

// The permutohedral lattice A*_d: points are splatted onto the d + 1 vertices of their enclosing
// simplex with barycentric weights, the lattice is blurred with [1 2 1] along each of its d + 1
// axes, and values are sliced back with the same weights (Adams et al. 2010). Everything
// that depends only on the features (vertex indices, weights, blur neighbours) is computed once
// in the constructor, so each filter call is a few passes over flat arrays with no hashing.
class Lattice {
 public:
  // features: n points of d floats, each already divided by its kernel's standard deviation,
  // so the filter approximates sum_j exp(-|f_i - f_j|^2 / 2) v_j.
  Lattice(const float* features, int d, int64_t n) : d_(d), n_(n) {
    const int d1 = d + 1;
    offsets_.resize(static_cast<size_t>(n) * d1);
    weights_.resize(static_cast<size_t>(n) * d1);

    // Adams et al.: scaling each axis by sqrt(2/3) (d + 1) makes the lattice's spacing match a
    // blur of standard deviation 1 (checked against a brute-force filter in test/crf.test.ts);
    // the 1/sqrt((i+1)(i+2)) factors normalise the columns of the elevation matrix E_d that
    // maps R^d onto the plane x . 1 = 0 in R^{d+1}.
    const double invStd = std::sqrt(2.0 / 3.0) * d1;
    double scale[kMaxDims];
    for (int i = 0; i < d; ++i) scale[i] = invStd / std::sqrt((i + 1.0) * (i + 2.0));

    // The canonical simplex: vertex r of the simplex at the origin has coordinates r (for the
    // d + 1 - r largest) and r - (d + 1) (for the rest), indexed by rank.
    std::vector<int32_t> canonical(static_cast<size_t>(d1) * d1);
    for (int r = 0; r <= d; ++r) {
      for (int j = 0; j <= d - r; ++j) canonical[r * d1 + j] = r;
      for (int j = d - r + 1; j <= d; ++j) canonical[r * d1 + j] = r - d1;
    }

    // Neighbouring pixels of similar colour share simplices: a simplex, named by its
    // remainder-0 vertex and rank permutation, is hashed once per pixel, and its d + 1 vertices
    // only when the simplex is new. On the demo tiles that halves the probes of the smoothness
    // kernel and saves a quarter of the appearance kernel's.
    KeyTable vertices(d, n / 2);
    KeyTable simplices(d1 + 2, n / 2);
    std::vector<int32_t> simplexVertices;
    const int kl = d1 + 2;  // simplex key: remainder-0 vertex, then the ranks packed in 4 bits each
    // Pixels go in blocks: the block's simplex keys are computed and their slots prefetched
    // first, then resolved in order (see KeyTable::prefetch).
    constexpr int kBlock = 32;
    std::vector<int32_t> blockKeys(static_cast<size_t>(kBlock) * kl);
    uint64_t blockHash[kBlock];
    int32_t prevKey[kMaxDims + 3];
    int32_t prevSimplex = -1;

    for (int64_t p0 = 0; p0 < n; p0 += kBlock) {
      const int count = static_cast<int>(std::min<int64_t>(kBlock, n - p0));
      for (int b = 0; b < count; ++b) {
        const int64_t p = p0 + b;
        double elevated[kMaxDims + 1];
        int32_t rem0[kMaxDims + 1];
        int32_t rank[kMaxDims + 1];
        double bary[kMaxDims + 2];
        const float* f = features + p * d;
        // Elevate onto H_d (the rows of E_d, applied without forming it).
        double sum = 0;
        for (int j = d; j > 0; --j) {
          double cf = static_cast<double>(f[j - 1]) * scale[j - 1];
          elevated[j] = sum - j * cf;
          sum += cf;
        }
        elevated[0] = sum;
        // Nearest remainder-0 point, then the permutation that sorts the differential (the
        // simplex containing the point is the canonical one under that permutation).
        int64_t remSum = 0;
        for (int i = 0; i <= d; ++i) {
          double v = elevated[i];
          if (!(std::fabs(v) < 1e9)) throw rangeError("features must be finite, and under 1e9 / (d + 1) standard deviations");
          double down = std::floor(v / d1) * d1;
          double up = down + d1;
          rem0[i] = static_cast<int32_t>(up - v < v - down ? up : down);
          remSum += rem0[i];
        }
        remSum /= d1;
        for (int i = 0; i <= d; ++i) rank[i] = 0;
        for (int i = 0; i < d; ++i) {
          double di = elevated[i] - rem0[i];
          for (int j = i + 1; j <= d; ++j) {
            if (di < elevated[j] - rem0[j]) ++rank[i];
            else ++rank[j];
          }
        }
        // A remainder-0 point off the plane: wrap the ranks back into [0, d].
        for (int i = 0; i <= d; ++i) {
          rank[i] += static_cast<int32_t>(remSum);
          if (rank[i] < 0) {
            rank[i] += d1;
            rem0[i] += d1;
          } else if (rank[i] > d) {
            rank[i] -= d1;
            rem0[i] -= d1;
          }
        }
        for (int i = 0; i <= d + 1; ++i) bary[i] = 0;
        for (int i = 0; i <= d; ++i) {
          double v = (elevated[i] - rem0[i]) / d1;
          bary[d - rank[i]] += v;
          bary[d - rank[i] + 1] -= v;
        }
        bary[0] += 1.0 + bary[d + 1];
        float* w = &weights_[static_cast<size_t>(p) * d1];
        for (int r = 0; r <= d; ++r) w[r] = static_cast<float>(bary[r]);

        uint64_t packed = 0;
        for (int i = 0; i <= d; ++i) packed |= static_cast<uint64_t>(rank[i]) << (4 * i);
        int32_t* key = &blockKeys[static_cast<size_t>(b) * kl];
        std::memcpy(key, rem0, sizeof(int32_t) * d1);
        key[d1] = static_cast<int32_t>(packed & 0xFFFFFFFFu);
        key[d1 + 1] = static_cast<int32_t>(packed >> 32);
        simplices.prefetch(blockHash[b] = simplices.hash(key));
      }
      for (int b = 0; b < count; ++b) simplices.prefetchKey(blockHash[b]);

      for (int b = 0; b < count; ++b) {
        const int32_t* key = &blockKeys[static_cast<size_t>(b) * kl];
        int32_t simplex;
        if (prevSimplex >= 0 && sameKey(key, prevKey, kl)) {
          simplex = prevSimplex;  // the commonest case, a neighbour in the same simplex
        } else {
          bool isNew = false;
          simplex = simplices.insert(key, blockHash[b], &isNew);
          if (isNew) addVertices(key, canonical.data(), vertices, simplexVertices);
          std::memcpy(prevKey, key, sizeof(int32_t) * kl);
          prevSimplex = simplex;
        }
        std::memcpy(&offsets_[static_cast<size_t>(p0 + b) * d1], &simplexVertices[static_cast<size_t>(simplex) * d1], sizeof(int32_t) * d1);
      }
    }
    simplices.release();
    std::vector<int32_t>().swap(simplexVertices);

    // Blur neighbours along each lattice axis j: n1 is the vertex minus 1 in every coordinate
    // but +d in coordinate j, n2 its opposite, so n2(n1(p)) = p: one lookup per axis finds both
    // links. Absent vertices hold nothing: they point at row m, which filter() keeps at zero,
    // so the blur loop needs no branch.
    m_ = vertices.size();
    const int32_t absent = static_cast<int32_t>(m_);
    neighbours_.assign(static_cast<size_t>(m_) * d1 * 2, absent);
    // In blocks, so the probes of a block are prefetched together (see KeyTable::prefetch).
    std::vector<int32_t> nkeys(static_cast<size_t>(kBlock) * d1 * d);
    std::vector<uint64_t> nhash(static_cast<size_t>(kBlock) * d1);
    for (int64_t p0 = 0; p0 < m_; p0 += kBlock) {
      const int count = static_cast<int>(std::min<int64_t>(kBlock, m_ - p0)) * d1;
      for (int b = 0; b < count; ++b) {
        const int32_t* k = vertices.key(p0 + b / d1);
        const int j = b % d1;
        int32_t* nk = &nkeys[static_cast<size_t>(b) * d];
        for (int i = 0; i < d; ++i) nk[i] = k[i] - 1;
        if (j < d) nk[j] = k[j] + d;
        vertices.prefetch(nhash[b] = vertices.hash(nk));
      }
      for (int b = 0; b < count; ++b) vertices.prefetchKey(nhash[b]);
      for (int b = 0; b < count; ++b) {
        const int32_t q = vertices.find(&nkeys[static_cast<size_t>(b) * d], nhash[b]);
        if (q < 0) continue;
        const int64_t p = p0 + b / d1;
        const int j = b % d1;
        neighbours_[(static_cast<size_t>(j) * m_ + p) * 2] = q;
        neighbours_[(static_cast<size_t>(j) * m_ + q) * 2 + 1] = static_cast<int32_t>(p);
      }
    }
  }

  int64_t points() const { return m_; }

 private:
  // Appends the vertex numbers of a new simplex (its key as the constructor builds it),
  // adding the vertices the lattice does not have yet.
  void addVertices(const int32_t* key, const int32_t* canonical, KeyTable& vertices, std::vector<int32_t>& simplexVertices) const {
    const int d = d_, d1 = d_ + 1;
    const uint64_t packed = static_cast<uint32_t>(key[d1]) | (static_cast<uint64_t>(static_cast<uint32_t>(key[d1 + 1])) << 32);
    int32_t vkeys[(kMaxDims + 1) * kMaxDims];
    uint64_t vhash[kMaxDims + 1];
    for (int r = 0; r <= d; ++r) {
      // A vertex is named by its first d coordinates: the last follows from x . 1 = 0.
      int32_t* vkey = &vkeys[r * d];
      for (int i = 0; i < d; ++i) vkey[i] = key[i] + canonical[r * d1 + ((packed >> (4 * i)) & 15)];
      vertices.prefetch(vhash[r] = vertices.hash(vkey));
    }
    for (int r = 0; r <= d; ++r) vertices.prefetchKey(vhash[r]);
    for (int r = 0; r <= d; ++r) {
      bool added = false;
      simplexVertices.push_back(vertices.insert(&vkeys[r * d], vhash[r], &added));
    }
  }

 public:

  // out (n x vd, interleaved) = the lattice's approximation of sum_j k(f_i, f_j) in_j, up to a
  // constant factor (the blur's mass grows as 2^(d+1)); callers divide by the filter of ones,
  // which cancels it. in and out may not alias.
  void filter(const float* in, float* out, int vd) const {
    const int d1 = d_ + 1;
    const int64_t m = m_;
    // Row m of both buffers is the absent neighbour: zero, and never written.
    buffer_.assign(static_cast<size_t>(m + 1) * vd, 0.f);
    spare_.resize(static_cast<size_t>(m + 1) * vd);
    std::fill(spare_.begin() + m * vd, spare_.end(), 0.f);
    float* a = buffer_.data();
    float* b = spare_.data();
    // Splat. One channel (the CRF's case for two labels) gets its own loops: without the
    // inner loop over channels the compiler keeps sums in registers.
    if (vd == 1) {
      for (int64_t p = 0; p < n_; ++p) {
        const int32_t* off = &offsets_[static_cast<size_t>(p) * d1];
        const float* w = &weights_[static_cast<size_t>(p) * d1];
        const float v = in[p];
        for (int r = 0; r < d1; ++r) a[off[r]] += w[r] * v;
      }
    } else {
      for (int64_t p = 0; p < n_; ++p) {
        const int32_t* off = &offsets_[static_cast<size_t>(p) * d1];
        const float* w = &weights_[static_cast<size_t>(p) * d1];
        const float* v = in + p * vd;
        for (int r = 0; r < d1; ++r) {
          float* dst = a + static_cast<int64_t>(off[r]) * vd;
          const float wr = w[r];
          for (int c = 0; c < vd; ++c) dst[c] += wr * v[c];
        }
      }
    }
    // Blur: [1 2 1] / 2 along each axis in turn.
    for (int j = 0; j <= d_; ++j) {
      const int32_t* nb = &neighbours_[static_cast<size_t>(j) * m * 2];
      if (vd == 1) {
        for (int64_t p = 0; p < m; ++p) b[p] = a[p] + 0.5f * (a[nb[2 * p]] + a[nb[2 * p + 1]]);
      } else {
        for (int64_t p = 0; p < m; ++p) {
          const float* self = a + p * vd;
          const float* v1 = a + static_cast<int64_t>(nb[2 * p]) * vd;
          const float* v2 = a + static_cast<int64_t>(nb[2 * p + 1]) * vd;
          float* dst = b + p * vd;
          for (int c = 0; c < vd; ++c) dst[c] = self[c] + 0.5f * (v1[c] + v2[c]);
        }
      }
      std::swap(a, b);
    }
    // Slice.
    if (vd == 1) {
      for (int64_t p = 0; p < n_; ++p) {
        const int32_t* off = &offsets_[static_cast<size_t>(p) * d1];
        const float* w = &weights_[static_cast<size_t>(p) * d1];
        float sum = 0.f;
        for (int r = 0; r < d1; ++r) sum += w[r] * a[off[r]];
        out[p] = sum;
      }
      return;
    }
    for (int64_t p = 0; p < n_; ++p) {
      const int32_t* off = &offsets_[static_cast<size_t>(p) * d1];
      const float* w = &weights_[static_cast<size_t>(p) * d1];
      float* o = out + p * vd;
      for (int c = 0; c < vd; ++c) o[c] = 0.f;
      for (int r = 0; r < d1; ++r) {
        const float* src = a + static_cast<int64_t>(off[r]) * vd;
        const float wr = w[r];
        for (int c = 0; c < vd; ++c) o[c] += wr * src[c];
      }
    }
  }

 private:
  int d_;
  int64_t n_;
  int64_t m_ = 0;                    // lattice vertices
  std::vector<int32_t> offsets_;     // n x (d + 1): the vertices each point splats to
  std::vector<float> weights_;       // n x (d + 1): its barycentric weights
  std::vector<int32_t> neighbours_;  // (d + 1) x m x 2: blur neighbours, m when absent
  mutable std::vector<float> buffer_, spare_;
};

}  // namespace lattice
}  // namespace segkit
