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

#if SEGKIT_DNNL
#include <dnnl.hpp>

#include <mutex>
#include <unordered_map>
#endif

namespace segkit {
namespace {

// Autocast and other dtypes are libtorch's own convolution's business (our op has no autocast
// kernel, so its casts happen when aten::conv2d is called from here).
bool handBack(const at::Tensor& input, const at::Tensor& weight) {
  return !SEGKIT_DNNL || at::autocast::is_cpu_enabled() || input.scalar_type() != at::kFloat ||
         weight.scalar_type() != at::kFloat;
}

#if SEGKIT_DNNL

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;

dnnl::engine& cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// One problem: shapes, padding, memory format and bias.
struct Problem {
  int64_t n, c, h, w, k, ph, pw;
  bool channelsLast, bias;
  // With the thread count: oneDNN sizes a primitive's work split and scratchpad for the threads
  // it is created under (its own primitive cache keys on them too), so a plan made for 2 threads
  // is not run with 4.
  std::string key() const {
    char buf[176];
    snprintf(buf, sizeof buf, "%ld,%ld,%ld,%ld,%ld,%ld,%ld,%d,%d,t%d", static_cast<long>(n), static_cast<long>(c),
             static_cast<long>(h), static_cast<long>(w), static_cast<long>(k), static_cast<long>(ph),
             static_cast<long>(pw), channelsLast, bias, at::get_num_threads());
    return buf;
  }
  int64_t oh() const { return h + 2 * ph - 2; }
  int64_t ow() const { return w + 2 * pw - 2; }
  memory::desc srcUser() const { return {{n, c, h, w}, memory::data_type::f32, channelsLast ? tag::nhwc : tag::nchw}; }
  memory::desc dstUser() const { return {{n, k, oh(), ow()}, memory::data_type::f32, channelsLast ? tag::nhwc : tag::nchw}; }
  memory::desc weiUser() const { return {{k, c, 3, 3}, memory::data_type::f32, tag::oihw}; }
};

// The primitives of one problem, made once (oneDNN JIT-compiles each).
struct Plan {
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd;
  bool winograd = false;
  // Backward, made on first use.
  bool haveBwd = false;
  dnnl::convolution_backward_data::primitive_desc bwdDataPd;
  dnnl::convolution_backward_data bwdData;
  dnnl::convolution_backward_weights::primitive_desc bwdWeiPd;
  dnnl::convolution_backward_weights bwdWei;
};

std::mutex planMutex;
std::unordered_map<std::string, std::unique_ptr<Plan>> plans;

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

memory::desc anyDesc(const memory::dims& d) { return {d, memory::data_type::f32, tag::any}; }

Plan& planFor(const Problem& p) {
  std::lock_guard<std::mutex> lock(planMutex);
  auto& slot = plans[p.key()];
  if (slot) return *slot;
  auto plan = std::make_unique<Plan>();
  const memory::dims src{p.n, p.c, p.h, p.w}, wei{p.k, p.c, 3, 3}, dst{p.n, p.k, p.oh(), p.ow()}, bias{p.k};
  const memory::desc biasMd = p.bias ? memory::desc(bias, memory::data_type::f32, tag::x) : memory::desc();
  // forward_training even for inference: forward_inference's Winograd kernel wants its weights
  // pre-transformed by a reorder that costs more than the convolution (so they would have to be
  // kept, at four times the weights' size); forward_training's transforms them in the kernel.
  const prop_kind prop = prop_kind::forward_training;
  for (algorithm alg : {algorithm::convolution_winograd, algorithm::convolution_direct}) {
    try {
      dnnl::convolution_forward::desc d(prop, alg, anyDesc(src), anyDesc(wei), biasMd, anyDesc(dst), {1, 1}, {0, 0},
                                        {p.ph, p.pw}, {p.ph, p.pw});
      plan->fwdPd = dnnl::convolution_forward::primitive_desc(d, userScratchpad(), cpuEngine());
      plan->winograd = alg == algorithm::convolution_winograd;
      break;
    } catch (const dnnl::error&) {
      if (alg == algorithm::convolution_direct) throw;
    }
  }
  plan->fwd = dnnl::convolution_forward(plan->fwdPd);
  slot = std::move(plan);
  return *slot;
}

void makeBackward(const Problem& p, Plan& plan) {
  std::lock_guard<std::mutex> lock(planMutex);
  if (plan.haveBwd) return;
  const memory::dims src{p.n, p.c, p.h, p.w}, wei{p.k, p.c, 3, 3}, dst{p.n, p.k, p.oh(), p.ow()}, bias{p.k};
  const memory::desc biasMd = p.bias ? memory::desc(bias, memory::data_type::f32, tag::x) : memory::desc();
  const algorithm alg = plan.winograd ? algorithm::convolution_winograd : algorithm::convolution_direct;
  dnnl::convolution_backward_data::desc dd(alg, anyDesc(src), anyDesc(wei), anyDesc(dst), {1, 1}, {0, 0}, {p.ph, p.pw},
                                           {p.ph, p.pw});
  plan.bwdDataPd = dnnl::convolution_backward_data::primitive_desc(dd, userScratchpad(), cpuEngine(), plan.fwdPd);
  dnnl::convolution_backward_weights::desc wd(alg, anyDesc(src), anyDesc(wei), biasMd, anyDesc(dst), {1, 1}, {0, 0},
                                              {p.ph, p.pw}, {p.ph, p.pw});
  plan.bwdWeiPd = dnnl::convolution_backward_weights::primitive_desc(wd, userScratchpad(), cpuEngine(), plan.fwdPd);
  plan.bwdData = dnnl::convolution_backward_data(plan.bwdDataPd);
  plan.bwdWei = dnnl::convolution_backward_weights(plan.bwdWeiPd);
  plan.haveBwd = true;
}

// Buffers come from libtorch's allocator (segkit's caching allocator), not oneDNN's malloc, so
// they are reused across calls and counted in torch.cpu.memoryStats.
at::Tensor buffer(const memory::desc& md) {
  return at::empty({static_cast<int64_t>(md.get_size())}, at::TensorOptions().dtype(at::kByte));
}

// One scratchpad per thread, grown to the largest a kernel asked for and shared by every call,
// as libtorch's oneDNN integration does: each layer shape wants its own size, and freed to the
// caching allocator those would each stay cached. It is tensor memory (counted as allocated).
memory scratchpad(const memory::desc& md) {
  thread_local at::Tensor pad;
  const auto bytes = static_cast<int64_t>(md.get_size());
  if (!pad.defined() || pad.numel() < bytes) {
    pad = at::Tensor();
    pad = buffer(md);
  }
  return memory(md, cpuEngine(), pad.data_ptr());
}

dnnl::stream& cpuStream() {
  thread_local dnnl::stream s(cpuEngine());
  return s;
}

// Where a kernel writes a result meant for the user's memory `data`: that memory when the layouts
// match, else a buffer in the layout `want` held by `keep` (fromLayout copies it back).
memory intoLayout(const memory::desc& userMd, void* data, const memory::desc& want, at::Tensor& keep) {
  if (userMd == want) return memory(userMd, cpuEngine(), data);
  if (!keep.defined() || keep.numel() < static_cast<int64_t>(want.get_size())) keep = buffer(want);
  return memory(want, cpuEngine(), keep.data_ptr());
}

// `user` (the tensor's own memory) in the layout `want`: the same memory when the layouts
// match, else a reordered copy held by `keep`.
memory asLayout(const memory::desc& userMd, void* data, const memory::desc& want, at::Tensor& keep) {
  memory m = intoLayout(userMd, data, want, keep);
  if (userMd == want) return m;
  memory user(userMd, cpuEngine(), data);
  dnnl::reorder(user, m).execute(cpuStream(), user, m);
  return m;
}

// Writes `m` (layout want) into the user's memory `data` (layout userMd), unless it is that memory.
void fromLayout(memory m, const memory::desc& userMd, void* data) {
  if (m.get_data_handle() == data) return;
  memory user(userMd, cpuEngine(), data);
  dnnl::reorder(m, user).execute(cpuStream(), m, user);
}

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
  return Problem{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), padding[0], padding[1], isChannelsLast(x), hasBias};
}

constexpr int64_t kChunkPixels = 128 * 128;

at::Tensor forward(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                   at::IntArrayRef padding, bool training) {
  checkArgs(input, weight, bias, padding);
  const bool hasBias = bias && bias->defined();
  const bool cl = isChannelsLast(input);
  const at::Tensor x = cl ? input : input.contiguous();
  const at::Tensor w = weight.contiguous();
  const Problem all = problemOf(x, w, hasBias, padding);
  // Without autograd, in chunks of about 128x128 pixels' worth of samples: the Winograd
  // kernel's transformed tiles of a whole batch of 512x512 maps are hundreds of MB (out of
  // cache, and peak memory), while small maps (deep layers, a dilated layer's polyphase
  // components) are best batched, since each call transforms the weights again. Autograd's
  // forward keeps the batch (one plan shared with the backward).
  Problem p = all;
  if (!training) {
    const int64_t want = std::max<int64_t>(1, kChunkPixels / std::max<int64_t>(1, all.h * all.w));
    p.n = 1;
    for (int64_t d = std::min(all.n, want); d > 1; --d) {
      if (all.n % d == 0) {
        p.n = d;
        break;
      }
    }
  }
  Plan& plan = planFor(p);
  const auto& pd = plan.fwdPd;
  at::Tensor out = at::empty({all.n, all.k, all.oh(), all.ow()},
                             x.options().memory_format(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
  at::Tensor weiKeep, srcKeep, dstKeep;
  // The weights go to the kernel's blocked layout on every call; the Winograd transform of them
  // happens inside the kernel (forward_training's plan), so no 4x-sized transformed copy of a
  // model's weights is kept in memory.
  memory wei = asLayout(p.weiUser(), w.data_ptr(), pd.weights_desc(), weiKeep);
  memory pad = scratchpad(pd.scratchpad_desc());
  at::Tensor b;
  if (hasBias) b = bias->contiguous();
  const int64_t inStride = p.n * p.c * p.h * p.w, outStride = p.n * p.k * p.oh() * p.ow();
  for (int64_t i = 0; i < all.n; i += p.n) {
    float* xs = x.data_ptr<float>() + i / p.n * inStride;
    float* ys = out.data_ptr<float>() + i / p.n * outStride;
    memory src = asLayout(p.srcUser(), xs, pd.src_desc(), srcKeep);
    memory dst = intoLayout(p.dstUser(), ys, pd.dst_desc(), dstKeep);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, pad}};
    if (hasBias) args.emplace(DNNL_ARG_BIAS, memory({{p.k}, memory::data_type::f32, tag::x}, cpuEngine(), b.data_ptr()));
    plan.fwd.execute(cpuStream(), args);
    fromLayout(dst, p.dstUser(), ys);
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
  at::Tensor gradIn, gradW, gradB;
  if (need[0]) {
    const auto& pd = plan.bwdDataPd;
    at::Tensor wKeep, gKeep, dKeep;
    memory wei = asLayout(p.weiUser(), w.data_ptr(), pd.weights_desc(), wKeep);
    memory diffDst = asLayout(p.dstUser(), g.data_ptr(), pd.diff_dst_desc(), gKeep);
    gradIn = at::empty_like(x);
    memory diffSrc = intoLayout(p.srcUser(), gradIn.data_ptr(), pd.diff_src_desc(), dKeep);
    plan.bwdData.execute(cpuStream(), {{DNNL_ARG_WEIGHTS, wei},
                                       {DNNL_ARG_DIFF_DST, diffDst},
                                       {DNNL_ARG_DIFF_SRC, diffSrc},
                                       {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc())}});
    fromLayout(diffSrc, p.srcUser(), gradIn.data_ptr());
    cpuStream().wait();
  }
  if (need[1] || (need[2] && hasBias)) {
    const auto& pd = plan.bwdWeiPd;
    at::Tensor sKeep, gKeep, wKeep;
    memory src = asLayout(p.srcUser(), x.data_ptr(), pd.src_desc(), sKeep);
    memory diffDst = asLayout(p.dstUser(), g.data_ptr(), pd.diff_dst_desc(), gKeep);
    gradW = at::empty_like(w);
    memory diffW = intoLayout(p.weiUser(), gradW.data_ptr(), pd.diff_weights_desc(), wKeep);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_DIFF_DST, diffDst},
                                         {DNNL_ARG_DIFF_WEIGHTS, diffW},
                                         {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc())}};
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
      return planFor(Problem{1, 16, 8, 8, 16, 1, 1, false, true}).winograd;
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
