// Fused Adam/AdamW for float32 CPU parameters: one pass over each parameter's memory instead of
// the eight elementwise kernels of PyTorch's single-tensor Adam, each of which streams whole
// tensors through memory (a ResNet-34 U-Net's 24 M parameters: about 2 GB of traffic a step
// against 0.7 GB here). PyTorch 2.4 added the same thing as `Adam(fused=True)` on the CPU.
// Each element goes through the single-tensor update's float operations in its order and with
// its roundings (ATen's vectorised add with alpha is one fused multiply-add, addcmul and addcdiv
// are separate multiply, multiply/divide and add), so on AVX2 hosts the result equals the
// unfused update bit for bit except where ATen's own scalar tail loops round differently.
#include "common.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace segkit {
namespace {

struct Hyper {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, weightDecay, decay, negStepSize, bc2Sqrt;
  bool decoupled, maximize, amsgrad;
};

// The per-element update, scalar: the reference, the tails and hosts without AVX2/FMA.
inline void adamScalar(float* p, const float* gp, float* m, float* v, float* vmax, int64_t n, const Hyper& h) {
  for (int64_t i = 0; i < n; ++i) {
    float g = h.maximize ? -gp[i] : gp[i];
    float w = p[i];
    if (h.decoupled) w = w * h.decay;
    else if (h.weightDecay != 0) g = std::fma(w, h.weightDecay, g);
    float mi = std::fma(g, h.oneMinusBeta1, m[i] * h.beta1);
    float vi = v[i] * h.beta2;
    vi = vi + (h.oneMinusBeta2 * g) * g;
    m[i] = mi;
    v[i] = vi;
    float s = vi;
    if (h.amsgrad) {
      s = std::fmax(vmax[i], vi);
      vmax[i] = s;
    }
    float denom = std::sqrt(s) / h.bc2Sqrt + h.eps;
    p[i] = w + (h.negStepSize * mi) / denom;
  }
}

__attribute__((target("avx2,fma"))) void adamAvx2(float* p, const float* gp, float* m, float* v, float* vmax, int64_t n, const Hyper& h) {
  const __m256 beta1 = _mm256_set1_ps(h.beta1), omb1 = _mm256_set1_ps(h.oneMinusBeta1);
  const __m256 beta2 = _mm256_set1_ps(h.beta2), omb2 = _mm256_set1_ps(h.oneMinusBeta2);
  const __m256 eps = _mm256_set1_ps(h.eps), wd = _mm256_set1_ps(h.weightDecay), decay = _mm256_set1_ps(h.decay);
  const __m256 nss = _mm256_set1_ps(h.negStepSize), bc2 = _mm256_set1_ps(h.bc2Sqrt);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 g = _mm256_loadu_ps(gp + i);
    if (h.maximize) g = _mm256_xor_ps(g, sign);
    __m256 w = _mm256_loadu_ps(p + i);
    if (h.decoupled) w = _mm256_mul_ps(w, decay);
    else if (h.weightDecay != 0) g = _mm256_fmadd_ps(w, wd, g);
    __m256 mi = _mm256_fmadd_ps(g, omb1, _mm256_mul_ps(_mm256_loadu_ps(m + i), beta1));
    __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), beta2), _mm256_mul_ps(_mm256_mul_ps(omb2, g), g));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    __m256 s = vi;
    if (h.amsgrad) {
      s = _mm256_max_ps(_mm256_loadu_ps(vmax + i), vi);
      _mm256_storeu_ps(vmax + i, s);
    }
    __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(s), bc2), eps);
    _mm256_storeu_ps(p + i, _mm256_add_ps(w, _mm256_div_ps(_mm256_mul_ps(nss, mi), denom)));
  }
  adamScalar(p + i, gp + i, m + i, v + i, vmax ? vmax + i : nullptr, n - i, h);
}

bool haveAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// Tensors the kernel can stream through as flat arrays: float32, CPU, dense, one layout.
bool flatTogether(const at::Tensor& p, std::initializer_list<const at::Tensor*> others) {
  if (p.scalar_type() != at::kFloat || !p.device().is_cpu() || !p.is_non_overlapping_and_dense()) return false;
  for (const at::Tensor* t : others) {
    if (t->scalar_type() != at::kFloat || !t->device().is_cpu() || t->sizes() != p.sizes() || t->strides() != p.strides()) return false;
  }
  return true;
}

// The unfused update with ATen ops, for parameters the kernel cannot take (other layouts).
void adamAten(at::Tensor& p, at::Tensor g, at::Tensor& m, at::Tensor& v, at::Tensor* vmax, const Hyper& h, double bc2Sqrt) {
  if (h.maximize) g = g.neg();
  if (h.decoupled) p.mul_(h.decay);
  else if (h.weightDecay != 0) g = g.add(p, h.weightDecay);
  m.mul_(h.beta1).add_(g, h.oneMinusBeta1);
  v.mul_(h.beta2).addcmul_(g, g, h.oneMinusBeta2);
  at::Tensor denom;
  if (vmax) {
    at::maximum_out(*vmax, *vmax, v);
    denom = (vmax->sqrt() / bc2Sqrt).add_(h.eps);
  } else {
    denom = (v.sqrt() / bc2Sqrt).add_(h.eps);
  }
  p.addcdiv_(m, denom, h.negStepSize);
}

std::vector<at::Tensor*> tensorList(napi_env env, Env* e, napi_value arr, const char* what, uint32_t n) {
  std::vector<at::Tensor*> out(n);
  for (uint32_t i = 0; i < n; ++i) out[i] = const_cast<at::Tensor*>(&tensorArg(env, e, element(env, arr, i), what));
  return out;
}

std::vector<double> numberList(napi_env env, napi_value arr, const char* what, uint32_t n) {
  uint32_t len = 0;
  napi_get_array_length(env, arr, &len);
  if (len != n) throw rangeError(std::string("fusedAdam: ") + what + " must hold one number per parameter");
  std::vector<double> out(n);
  for (uint32_t i = 0; i < n; ++i) out[i] = numberArg(env, element(env, arr, i), what);
  return out;
}

// fusedAdam(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs | null, stepSizes, biasCorrection2Sqrts,
//           lr, beta1, beta2, eps, weightDecay, decoupled, maximize): one Adam (decoupled: AdamW)
// step, in place. The per-parameter scalars come from JS, computed as the unfused update does.
SK_FN(FusedAdam) {
  SK_ARGS(14);
  SK_ENTRY("fusedAdam", {
    uint32_t n = 0;
    napi_get_array_length(env, argv[0], &n);
    auto params = tensorList(env, e, argv[0], "params", n);
    auto grads = tensorList(env, e, argv[1], "grads", n);
    auto ms = tensorList(env, e, argv[2], "expAvgs", n);
    auto vs = tensorList(env, e, argv[3], "expAvgSqs", n);
    bool amsgrad = !isNullish(env, argv[4]);
    auto vmaxs = amsgrad ? tensorList(env, e, argv[4], "maxExpAvgSqs", n) : std::vector<at::Tensor*>(n, nullptr);
    std::vector<double> stepSizes = numberList(env, argv[5], "stepSizes", n);
    std::vector<double> bc2Sqrts = numberList(env, argv[6], "biasCorrection2Sqrts", n);
    double lr = numberArg(env, argv[7], "lr"), beta1 = numberArg(env, argv[8], "beta1"), beta2 = numberArg(env, argv[9], "beta2");
    double eps = numberArg(env, argv[10], "eps"), wd = numberArg(env, argv[11], "weightDecay");
    bool decoupled = boolArg(env, argv[12], "decoupled"), maximize = boolArg(env, argv[13], "maximize");
    at::NoGradGuard noGrad;
    for (uint32_t i = 0; i < n; ++i) {
      // Scalars as the single-tensor update passes them: doubles, rounded to float by ATen.
      double bc2Sqrt = bc2Sqrts[i];
      Hyper h{static_cast<float>(beta1), static_cast<float>(1 - beta1), static_cast<float>(beta2), static_cast<float>(1 - beta2),
              static_cast<float>(eps), static_cast<float>(wd), static_cast<float>(1 - lr * wd), static_cast<float>(-stepSizes[i]),
              static_cast<float>(bc2Sqrt), decoupled, maximize, amsgrad};
      at::Tensor& p = *params[i];
      const at::Tensor& g = *grads[i];
      at::Tensor& m = *ms[i];
      at::Tensor& v = *vs[i];
      bool flat = amsgrad ? flatTogether(p, {&g, &m, &v, vmaxs[i]}) : flatTogether(p, {&g, &m, &v});
      if (!flat) {
        adamAten(p, g, m, v, vmaxs[i], h, bc2Sqrt);
        continue;
      }
      float* pp = p.data_ptr<float>();
      const float* gp = g.data_ptr<float>();
      float* mp = m.data_ptr<float>();
      float* vp = v.data_ptr<float>();
      float* xp = amsgrad ? vmaxs[i]->data_ptr<float>() : nullptr;
      bool avx2 = haveAvx2();
      // Written through raw pointers, so autograd's version counters are bumped by hand, as an
      // in-place op would: a graph that saved one of these tensors then refuses to run backward.
      for (at::Tensor* t : {&p, &m, &v}) t->unsafeGetTensorImpl()->bump_version();
      if (amsgrad) vmaxs[i]->unsafeGetTensorImpl()->bump_version();
      at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
        int64_t len = end - begin;
        float* x = xp ? xp + begin : nullptr;
        if (avx2) adamAvx2(pp + begin, gp + begin, mp + begin, vp + begin, x, len, h);
        else adamScalar(pp + begin, gp + begin, mp + begin, vp + begin, x, len, h);
      });
    }
    return makeUndefined(env);
  })
}

}  // namespace

void initOptim(napi_env env, napi_value exports, Env* e) { registerFunction(env, exports, e, "fusedAdam", FusedAdam); }

}  // namespace segkit
