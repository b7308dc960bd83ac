// Fully connected CRF with Gaussian edge potentials (Krähenbühl and Koltun, "Efficient Inference
// in Fully Connected CRFs with Gaussian Edge Potentials", NIPS 2011), as DeepLab v1 refines its
// score maps with it, and the permutohedral lattice that makes each mean-field step linear in
// the pixel count (Adams, Baek and Davis, "Fast High-Dimensional Filtering Using the
// Permutohedral Lattice", Eurographics 2010; in permutohedral.h). Plain float arrays on the CPU, one thread: no
// libtorch here, only the addon's entry-point plumbing.
#include "common.h"
#include "permutohedral.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace segkit {
namespace {

using lattice::kMaxDims;
using lattice::Lattice;

// A typed array argument: its elements and count, checked for type.
template <typename T>
struct Span {
  T* data;
  size_t length;
};

template <typename T>
Span<T> typedArrayArg(napi_env env, napi_value v, const char* what, napi_typedarray_type want, napi_typedarray_type alt, const char* expected) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) throw typeError(std::string(what) + " must be " + expected + ", got " + typeName(env, v));
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset);
  if (type != want && type != alt) throw typeError(std::string(what) + " must be " + expected);
  return {static_cast<T*>(data), length};
}

int64_t checkedSize(napi_env env, napi_value v, const char* what, int64_t min) {
  double x = numberArg(env, v, what);
  if (!(x >= static_cast<double>(min)) || x != std::floor(x) || x > 1e12) {
    throw rangeError(std::string(what) + " must be an integer >= " + std::to_string(min) + ", got " + std::to_string(x));
  }
  return static_cast<int64_t>(x);
}

double positiveArg(napi_env env, napi_value v, const char* what, bool allowZero) {
  double x = numberArg(env, v, what);
  if (!std::isfinite(x) || x < 0 || (!allowZero && x == 0)) {
    throw rangeError(std::string(what) + " must be a finite " + (allowZero ? "non-negative" : "positive") + " number, got " + std::to_string(x));
  }
  return x;
}

napi_value newFloat32Array(napi_env env, size_t length, float** data) {
  napi_value ab, out;
  void* raw = nullptr;
  if (napi_create_arraybuffer(env, length * sizeof(float), &raw, &ab) != napi_ok) throw rangeError("out of memory for the result");
  napi_create_typedarray(env, napi_float32_array, length, ab, 0, &out);
  *data = static_cast<float*>(raw);
  return out;
}

// permutohedralFilter(features: Float32Array (n x d), d, values: Float32Array (n x vd), vd)
// -> Float32Array (n x vd): the raw lattice filter, unnormalised (see Lattice::filter).
SK_FN(PermutohedralFilter) {
  SK_ARGS(4);
  SK_ENTRY("permutohedralFilter", {
    auto features = typedArrayArg<float>(env, argv[0], "features", napi_float32_array, napi_float32_array, "a Float32Array");
    int64_t d = checkedSize(env, argv[1], "d", 1);
    if (d > kMaxDims) throw rangeError("d must be at most " + std::to_string(kMaxDims) + ", got " + std::to_string(d));
    auto values = typedArrayArg<float>(env, argv[2], "values", napi_float32_array, napi_float32_array, "a Float32Array");
    int64_t vd = checkedSize(env, argv[3], "vd", 1);
    if (features.length % d != 0) throw rangeError("features must hold n x d floats, got " + std::to_string(features.length) + " for d = " + std::to_string(d));
    int64_t n = static_cast<int64_t>(features.length) / d;
    if (static_cast<int64_t>(values.length) != n * vd) {
      throw rangeError("values must hold n x vd = " + std::to_string(n) + " x " + std::to_string(vd) + " floats, got " + std::to_string(values.length));
    }
    if (n * (d + 1) >= std::numeric_limits<int32_t>::max()) throw rangeError("too many points");
    float* out = nullptr;
    napi_value result = newFloat32Array(env, values.length, &out);
    if (n == 0) return result;
    Lattice lattice(features.data, static_cast<int>(d), n);
    lattice.filter(values.data, out, static_cast<int>(vd));
    return result;
  })
}

// Probabilities this small are as good as impossible; clamping keeps -log finite, as DeepLab's
// unary (-log of its softmax output) needs.
constexpr float kMinProbability = 1e-8f;

// Softmax over each pixel's k logits, in place.
void softmaxRows(float* x, int64_t n, int k) {
  for (int64_t p = 0; p < n; ++p) {
    float* row = x + p * k;
    float mx = row[0];
    for (int c = 1; c < k; ++c) mx = std::max(mx, row[c]);
    float s = 0;
    for (int c = 0; c < k; ++c) s += (row[c] = std::exp(row[c] - mx));
    const float inv = 1.f / s;
    for (int c = 0; c < k; ++c) row[c] *= inv;
  }
}

struct Kernel {
  double weight;
  std::vector<float> norm;  // 1 / (filter of ones) per pixel
  Lattice* lattice;
};

struct CrfParams {
  int64_t iterations;
  double w1, thetaAlpha, thetaBeta, w2, thetaGamma;
};

// Mean-field inference of the dense CRF: image is h x w x 3 bytes, probs k x h x w, and out
// (k x h x w) receives Q.
void meanField(const uint8_t* image, int64_t w, int64_t h, const float* probs, int64_t k, const CrfParams& cp, float* out) {
  const int64_t n = w * h;
  const int64_t iterations = cp.iterations;
  const double w1 = cp.w1, thetaAlpha = cp.thetaAlpha, thetaBeta = cp.thetaBeta, w2 = cp.w2, thetaGamma = cp.thetaGamma;
  const int kk = static_cast<int>(k);

  // Unary psi_u = -log P (DeepLab's choice), stored negated; Q starts at softmax(-psi_u).
  std::vector<float> logP(static_cast<size_t>(n) * kk);
  for (int c = 0; c < kk; ++c) {
    const float* src = probs + c * n;
    for (int64_t p = 0; p < n; ++p) {
      float v = src[p];
      // NaN fails the comparison and is clamped too, so no NaN reaches the lattice.
      logP[p * kk + c] = std::log(v > kMinProbability ? v : kMinProbability);
    }
  }
  std::vector<float> q(logP);
  softmaxRows(q.data(), n, kk);

  std::vector<Lattice> lattices;
  lattices.reserve(2);
  std::vector<Kernel> kernels;
  if (iterations > 0 && w1 > 0) {
    // The appearance kernel's features (x/theta_alpha, y/theta_alpha, I/theta_beta).
    std::vector<float> f(static_cast<size_t>(n) * 5);
    for (int64_t y = 0, p = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x, ++p) {
        float* fp = &f[p * 5];
        fp[0] = static_cast<float>(x / thetaAlpha);
        fp[1] = static_cast<float>(y / thetaAlpha);
        for (int c = 0; c < 3; ++c) fp[2 + c] = static_cast<float>(image[p * 3 + c] / thetaBeta);
      }
    }
    lattices.emplace_back(f.data(), 5, n);
    kernels.push_back({w1, {}, nullptr});
  }
  if (iterations > 0 && w2 > 0) {
    std::vector<float> f(static_cast<size_t>(n) * 2);
    for (int64_t y = 0, p = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x, ++p) {
        f[p * 2] = static_cast<float>(x / thetaGamma);
        f[p * 2 + 1] = static_cast<float>(y / thetaGamma);
      }
    }
    lattices.emplace_back(f.data(), 2, n);
    kernels.push_back({w2, {}, nullptr});
  }
  // Each kernel's message is normalised by its filter of ones, sum_j k_ij Q_j / sum_j k_ij,
  // as in the authors' released code that DeepLab ran: it cancels the lattice's scale, and it
  // is what makes weights like DeepLab's 4 and 3 comparable with -log P (unnormalised, a
  // pixel's kernel mass with theta_alpha = 121 runs to thousands). It also keeps the pixel's
  // own term, which the paper's sum over j != i leaves out: the lattice does not reproduce the
  // self weight exactly, so it could not be subtracted exactly either.
  std::vector<float> ones(static_cast<size_t>(n), 1.f);
  for (size_t i = 0; i < kernels.size(); ++i) {
    kernels[i].lattice = &lattices[i];
    kernels[i].norm.resize(static_cast<size_t>(n));
    lattices[i].filter(ones.data(), kernels[i].norm.data(), 1);
    for (auto& v : kernels[i].norm) v = 1.f / (v + 1e-20f);
  }

  // Mean field (Krähenbühl and Koltun, algorithm 1). With the Potts model
  // mu(l, l') = [l != l'] the update is Q_i(l) ∝ exp(-psi_u(l) - sum_m w_m sum_{l' != l}
  // Qtilde_m(l')); normalised messages sum to 1 over labels, so this equals
  // exp(-psi_u(l) + sum_m w_m Qtilde_m(l)) up to a per-pixel constant that softmax removes.
  // Messages are linear in Q and the labels' Q sum to 1, so the last label's message is
  // 1 minus the others': only k - 1 channels go through the lattice (half the work for k = 2).
  const int filtered = kk - 1;
  std::vector<float> in(static_cast<size_t>(n) * filtered), msg(static_cast<size_t>(n) * filtered);
  std::vector<float> next(static_cast<size_t>(n) * kk);
  for (int64_t it = 0; it < iterations && !kernels.empty(); ++it) {
    std::memcpy(next.data(), logP.data(), sizeof(float) * next.size());
    for (int64_t p = 0; p < n; ++p) std::memcpy(&in[p * filtered], &q[p * kk], sizeof(float) * filtered);
    for (const Kernel& kern : kernels) {
      kern.lattice->filter(in.data(), msg.data(), filtered);
      const float wgt = static_cast<float>(kern.weight);
      for (int64_t p = 0; p < n; ++p) {
        const float scale = wgt * kern.norm[p];
        float* row = &next[p * kk];
        const float* m = &msg[p * filtered];
        float rest = 0;
        for (int c = 0; c < filtered; ++c) {
          float mc = scale * m[c];
          row[c] += mc;
          rest += mc;
        }
        row[filtered] += wgt - rest;
      }
    }
    std::swap(q, next);
    softmaxRows(q.data(), n, kk);
  }

  for (int c = 0; c < kk; ++c) {
  float* dst = out + c * n;
  for (int64_t p = 0; p < n; ++p) dst[p] = q[p * kk + c];
  }
}

// denseCrf(image: Uint8Array (h x w x 3), width, height, probabilities: Float32Array (k x h x w),
//          k, iterations, appearanceWeight, appearanceXyStd, appearanceRgbStd,
//          smoothnessWeight, smoothnessXyStd) -> Float32Array (k x h x w) of Q.
SK_FN(DenseCrf) {
  SK_ARGS(11);
  SK_ENTRY("denseCrf", {
    auto image = typedArrayArg<uint8_t>(env, argv[0], "image", napi_uint8_array, napi_uint8_clamped_array, "a Uint8Array");
    int64_t w = checkedSize(env, argv[1], "width", 1);
    int64_t h = checkedSize(env, argv[2], "height", 1);
    auto probs = typedArrayArg<float>(env, argv[3], "probabilities", napi_float32_array, napi_float32_array, "a Float32Array");
    int64_t k = checkedSize(env, argv[4], "classes", 2);
    int64_t iterations = checkedSize(env, argv[5], "iterations", 0);
    double w1 = positiveArg(env, argv[6], "appearance weight", true);
    double thetaAlpha = positiveArg(env, argv[7], "appearance xyStd", false);
    double thetaBeta = positiveArg(env, argv[8], "appearance rgbStd", false);
    double w2 = positiveArg(env, argv[9], "smoothness weight", true);
    double thetaGamma = positiveArg(env, argv[10], "smoothness xyStd", false);
    const int64_t n = w * h;
    if (n > (int64_t{1} << 28)) throw rangeError("image too large: " + std::to_string(w) + " x " + std::to_string(h) + " pixels");
    if (k > 4096) throw rangeError("classes must be at most 4096, got " + std::to_string(k));
    if (static_cast<int64_t>(image.length) != n * 3) {
      throw rangeError("image must hold height x width x 3 = " + std::to_string(n * 3) + " bytes, got " + std::to_string(image.length));
    }
    if (static_cast<int64_t>(probs.length) != n * k) {
      throw rangeError("probabilities must hold classes x height x width = " + std::to_string(n * k) + " floats, got " + std::to_string(probs.length));
    }
    float* out = nullptr;
    napi_value result = newFloat32Array(env, static_cast<size_t>(n) * k, &out);
    meanField(image.data, w, h, probs.data, k, {iterations, w1, thetaAlpha, thetaBeta, w2, thetaGamma}, out);
    return result;
  })
}

}  // namespace

void initCrf(napi_env env, napi_value exports, Env* e) {
  registerFunction(env, exports, e, "denseCrf", DenseCrf);
  registerFunction(env, exports, e, "permutohedralFilter", PermutohedralFilter);
}

}  // namespace segkit
