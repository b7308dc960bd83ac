// segkit::conv2d_winograd: 3x3, stride-1 convolutions through oneDNN's Winograd F(4x4, 3x3)
// kernels, forward and backward. libtorch 1.13 reaches oneDNN only through its direct
// convolution (mkldnn_convolution asks for algorithm::convolution_direct), which on a 3x3 layer
// does 2.25x to 4x the multiplications Winograd does; measured on this project's 2-core AVX-512
// machine a 3x3 layer of a ResNet runs 2-3.5x faster this way, forward and backward. The op is
// registered with the c10 dispatcher (CPU and Autograd kernels), so the TypeScript layer calls it
// by name like any aten op, and the same oneDNN library libtorch links is used (one thread pool).
// Where oneDNN has no Winograd kernel for the problem (no AVX-512, channel counts it does not
// block), oneDNN's direct convolution runs instead: the op always computes the convolution.
#include "common.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "dnnl_plan.h"

namespace segkit {
namespace {

// Autocast and other dtypes are libtorch's own convolution's business (our op has no autocast
// kernel, so its casts happen when aten::conv2d is called from here).
bool handBack(const at::Tensor& input, const at::Tensor& weight) {
  return !SEGKIT_DNNL || at::autocast::is_cpu_enabled() || input.scalar_type() != at::kFloat ||
         weight.scalar_type() != at::kFloat;
}

#if SEGKIT_DNNL
using namespace wino;

void checkArgs(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
               at::IntArrayRef padding) {
  TORCH_CHECK(input.dim() == 4 && weight.dim() == 4, "conv2d_winograd: input and weight must be 4-D, got ",
              input.sizes(), " and ", weight.sizes());
  TORCH_CHECK(input.device().is_cpu() && input.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat,
              "conv2d_winograd: float32 CPU tensors only, got ", input.toString(), " and ", weight.toString());
  TORCH_CHECK(weight.size(2) == 3 && weight.size(3) == 3 && weight.size(1) == input.size(1),
              "conv2d_winograd: weight must be (Cout, ", input.size(1), ", 3, 3), got ", weight.sizes());
  TORCH_CHECK(padding.size() == 2 && padding[0] >= 0 && padding[0] <= 2 && padding[1] >= 0 && padding[1] <= 2,
              "conv2d_winograd: padding must be [h, w] in 0..2, got ", padding);
  TORCH_CHECK(input.size(2) + 2 * padding[0] >= 3 && input.size(3) + 2 * padding[1] >= 3,
              "conv2d_winograd: input ", input.sizes(), " is smaller than the kernel");
  if (bias && bias->defined())
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == weight.size(0) && bias->scalar_type() == at::kFloat,
                "conv2d_winograd: bias must be float32 (", weight.size(0), "), got ", bias->sizes());
}

bool isChannelsLast(const at::Tensor& t) {
  return !t.is_contiguous() && t.is_contiguous(at::MemoryFormat::ChannelsLast);
}

Problem problemOf(const at::Tensor& x, const at::Tensor& w, bool hasBias, at::IntArrayRef padding) {
  return Problem{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), padding[0], padding[0], padding[1], isChannelsLast(x), hasBias};
}

// Output pixels per kernel call without autograd. A call holds in its scratchpad the transformed
// weights (36/9 of the weights: U) and the transformed input and output tiles (9 * (C + K) bytes
// per output pixel): the tiles of a whole 512x512 map are 85 MB at 32 -> 16 channels (out of
// cache, and the process's peak memory), so big maps go in bands of rows and small maps (deep
// layers, a dilated layer's polyphase components) are batched, tiles about as big as U (each
// call transforms the weights again) and never under kTileBytes.
constexpr int64_t kTileBytes = int64_t{16} << 20;
int64_t chunkPixels(int64_t c, int64_t k) { return std::max(kTileBytes, 144 * c * k) / (9 * (c + k)); }

struct Call {
  const Problem& p;
  const at::Tensor& w;
  const float* bias;
  at::Tensor weiKeep, srcKeep, dstKeep, padKeep;
  memory::desc weiDone;  // the blocked weights layout weiKeep holds
  memory wei;

  // Output rows [r0, r1) of samples [i, i + n) of x (rows: x's full height; out: the output).
  void run(const float* x, float* out, int64_t i, int64_t n, int64_t r0, int64_t r1) {
    Problem b = p;
    b.n = n;
    const int64_t first = r0 - p.pt, end = r1 - p.pt + 2;  // input rows the band reads
    b.pt = std::max<int64_t>(0, -first);
    b.pb = std::max<int64_t>(0, end - p.h);
    const int64_t s = std::max<int64_t>(0, first);
    b.h = std::min(end, p.h) - s;
    Plan& plan = planFor(b);
    const auto& pd = plan.fwdPd;
    if (!(weiDone == pd.weights_desc())) {
      wei = asLayout(p.weiUser(), w.data_ptr(), pd.weights_desc(), weiKeep);
      weiDone = pd.weights_desc();
    }
    const int64_t oh = p.oh(), ow = p.ow();
    const float* xs = x + i * p.c * p.h * p.w + s * p.w * (p.channelsLast ? p.c : 1);
    float* ys = out + i * p.k * oh * ow + r0 * ow * (p.channelsLast ? p.k : 1);
    memory src = asLayout(b.srcUser(p.h), const_cast<float*>(xs), pd.src_desc(), srcKeep);
    memory dst = intoLayout(b.dstUser(oh), ys, pd.dst_desc(), dstKeep);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_WEIGHTS, wei},
                                         {DNNL_ARG_DST, dst},
                                         {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc(), padKeep)}};
    if (bias) args.emplace(DNNL_ARG_BIAS, memory({{p.k}, memory::data_type::f32, tag::x}, cpuEngine(), const_cast<float*>(bias)));
    plan.fwd.execute(cpuStream(), args);
    fromLayout(dst, b.dstUser(oh), ys);
  }
};

at::Tensor forward(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                   at::IntArrayRef padding, bool training) {
  checkArgs(input, weight, bias, padding);
  const bool hasBias = bias && bias->defined();
  const bool cl = isChannelsLast(input);
  const at::Tensor x = cl ? input : input.contiguous();
  const at::Tensor w = weight.contiguous();
  const at::Tensor b = hasBias ? bias->contiguous() : at::Tensor();
  const Problem p = problemOf(x, w, hasBias, padding);
  at::Tensor out = at::empty({p.n, p.k, p.oh(), p.ow()},
                             x.options().memory_format(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
  Call call{p, w, hasBias ? b.data_ptr<float>() : nullptr};
  const float* xs = x.data_ptr<float>();
  float* ys = out.data_ptr<float>();
  const int64_t oh = p.oh(), px = chunkPixels(p.c, p.k);
  if (training) {
    call.run(xs, ys, 0, p.n, 0, oh);  // autograd's forward keeps the batch: one plan with the backward
  } else if (px < oh * p.ow()) {
    // Bands of rows, a multiple of 4 (Winograd's output tile) high.
    const int64_t rows = std::max<int64_t>(4, px / p.ow() / 4 * 4);
    for (int64_t i = 0; i < p.n; ++i)
      for (int64_t r = 0; r < oh; r += rows) call.run(xs, ys, i, 1, r, std::min(oh, r + rows));
  } else {
    // Whole samples, as many per call as divide the batch evenly and fit.
    const int64_t want = std::max<int64_t>(1, px / (oh * p.ow()));
    int64_t n = 1;
    for (int64_t d = std::min(p.n, want); d > 1; --d) {
      if (p.n % d == 0) {
        n = d;
        break;
      }
    }
    for (int64_t i = 0; i < p.n; i += n) call.run(xs, ys, i, n, 0, oh);
  }
  cpuStream().wait();
  return out;
}

// grad input, grad weight (the weight's shape, contiguous), grad bias (undefined without bias).
std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(const at::Tensor& gradOut, const at::Tensor& input,
                                                       const at::Tensor& weight, bool hasBias,
                                                       at::IntArrayRef padding, std::array<bool, 3> need) {
  const bool cl = isChannelsLast(input);
  const at::Tensor x = cl ? input : input.contiguous();
  const at::Tensor w = weight.contiguous();
  const at::Tensor g = gradOut.contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
  const Problem p = problemOf(x, w, hasBias, padding);
  Plan& plan = planFor(p);
  makeBackward(p, plan);
  at::Tensor gradIn, gradW, gradB, padKeep;
  if (need[0]) {
    const auto& pd = plan.bwdDataPd;
    at::Tensor wKeep, gKeep, dKeep;
    memory wei = asLayout(p.weiUser(), w.data_ptr(), pd.weights_desc(), wKeep);
    memory diffDst = asLayout(p.dstUser(p.oh()), g.data_ptr(), pd.diff_dst_desc(), gKeep);
    gradIn = at::empty_like(x);
    memory diffSrc = intoLayout(p.srcUser(p.h), gradIn.data_ptr(), pd.diff_src_desc(), dKeep);
    plan.bwdData.execute(cpuStream(), {{DNNL_ARG_WEIGHTS, wei},
                                       {DNNL_ARG_DIFF_DST, diffDst},
                                       {DNNL_ARG_DIFF_SRC, diffSrc},
                                       {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc(), padKeep)}});
    fromLayout(diffSrc, p.srcUser(p.h), gradIn.data_ptr());
    cpuStream().wait();
  }
  if (need[1] || (need[2] && hasBias)) {
    const auto& pd = plan.bwdWeiPd;
    at::Tensor sKeep, gKeep, wKeep;
    memory src = asLayout(p.srcUser(p.h), x.data_ptr(), pd.src_desc(), sKeep);
    memory diffDst = asLayout(p.dstUser(p.oh()), g.data_ptr(), pd.diff_dst_desc(), gKeep);
    gradW = at::empty_like(w);
    memory diffW = intoLayout(p.weiUser(), gradW.data_ptr(), pd.diff_weights_desc(), wKeep);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_DIFF_DST, diffDst},
                                         {DNNL_ARG_DIFF_WEIGHTS, diffW},
                                         {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc(), padKeep)}};
    if (hasBias) {
      gradB = at::empty({p.k}, x.options());
      args.emplace(DNNL_ARG_DIFF_BIAS, memory({{p.k}, memory::data_type::f32, tag::x}, cpuEngine(), gradB.data_ptr()));
    }
    plan.bwdWei.execute(cpuStream(), args);
    fromLayout(diffW, p.weiUser(), gradW.data_ptr());
    cpuStream().wait();
    if (!need[1]) gradW = at::Tensor();
    if (!need[2]) gradB = at::Tensor();
  }
  return {gradIn, gradW, gradB};
}

// Whether oneDNN has a Winograd kernel on this CPU (AVX-512): asked once, for a small problem.
bool winogradKernels() {
  static const bool yes = [] {
    try {
      return planFor(Problem{1, 16, 8, 8, 16, 1, 1, 1, false, true}).winograd;
    } catch (...) {
      return false;
    }
  }();
  return yes;
}
#else
at::Tensor forward(const at::Tensor&, const at::Tensor&, const c10::optional<at::Tensor>&, at::IntArrayRef, bool) {
  TORCH_CHECK(false, "conv2d_winograd: segkit was built without oneDNN's headers (apt-get install libdnnl-dev)");
}
std::tuple<at::Tensor, at::Tensor, at::Tensor> backward(const at::Tensor&, const at::Tensor&, const at::Tensor&, bool,
                                                       at::IntArrayRef, std::array<bool, 3>) {
  TORCH_CHECK(false, "conv2d_winograd: segkit was built without oneDNN's headers (apt-get install libdnnl-dev)");
}
bool winogradKernels() { return false; }
#endif

at::Tensor conv2dWinogradCpu(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                             at::IntArrayRef padding) {
  if (handBack(input, weight)) return at::conv2d(input, weight, bias, 1, padding);
  return forward(input, weight, bias, padding, false);
}

struct WinogradConv : public torch::autograd::Function<WinogradConv> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                            const c10::optional<at::Tensor>& bias, at::IntArrayRef padding) {
    const bool hasBias = bias && bias->defined();
    ctx->save_for_backward({input, weight});
    ctx->saved_data["bias"] = hasBias;
    ctx->saved_data["padding"] = padding.vec();
    return ::segkit::forward(input, weight, bias, padding, true);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const bool hasBias = ctx->saved_data["bias"].toBool();
    const std::vector<int64_t> padding = ctx->saved_data["padding"].toIntVector();
    std::array<bool, 3> need{ctx->needs_input_grad(0), ctx->needs_input_grad(1), hasBias && ctx->needs_input_grad(2)};
    if (at::GradMode::is_enabled()) {
      // backward(createGraph: true), for a gradient penalty or a Hessian-vector product: our
      // kernels have no derivative of their own, so the gradients come from libtorch's
      // convolution_backward, which does (its double-backward formula), and the graph goes on.
      const int64_t k = saved[1].size(0);
      const at::OptionalIntArrayRef biasSizes = hasBias ? at::OptionalIntArrayRef(at::IntArrayRef(&k, 1)) : at::OptionalIntArrayRef();
      auto [gi, gw, gb] =
          at::convolution_backward(grads[0], saved[0], saved[1], biasSizes, {1, 1}, padding, {1, 1}, false, {0, 0}, 1, need);
      return {gi, gw, gb, at::Tensor()};
    }
    auto [gi, gw, gb] = ::segkit::backward(grads[0], saved[0], saved[1], hasBias, padding, need);
    return {gi, gw, gb, at::Tensor()};
  }
};

at::Tensor conv2dWinogradAutograd(const at::Tensor& input, const at::Tensor& weight,
                                  const c10::optional<at::Tensor>& bias, at::IntArrayRef padding) {
  if (handBack(input, weight)) return at::conv2d(input, weight, bias, 1, padding);
  const bool grad = at::GradMode::is_enabled() &&
                    (input.requires_grad() || weight.requires_grad() || (bias && bias->defined() && bias->requires_grad()));
  if (!grad) {
    at::AutoDispatchBelowADInplaceOrView guard;
    return forward(input, weight, bias, padding, false);
  }
  return WinogradConv::apply(input, weight, bias, padding);
}

}  // namespace

SK_FN(WinogradAvailable) {
  SK_ENTRY("winogradAvailable", { return makeBool(env, winogradKernels()); })
}

void initDnnlConv(napi_env env, napi_value exports, Env* e) {
  registerFunction(env, exports, e, "winogradAvailable", WinogradAvailable);
}

}  // namespace segkit

TORCH_LIBRARY(segkit, m) {
  m.def("conv2d_winograd(Tensor input, Tensor weight, Tensor? bias, int[2] padding) -> Tensor");
}
TORCH_LIBRARY_IMPL(segkit, CPU, m) { m.impl("conv2d_winograd", segkit::conv2dWinogradCpu); }
TORCH_LIBRARY_IMPL(segkit, Autograd, m) { m.impl("conv2d_winograd", segkit::conv2dWinogradAutograd); }
