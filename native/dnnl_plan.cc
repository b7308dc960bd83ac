#include "dnnl_plan.h"
#if SEGKIT_DNNL
#include <ATen/Parallel.h>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace segkit {
namespace wino {

dnnl::engine& cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

std::string Problem::key() const {
  // With the thread count: oneDNN sizes a primitive's work split and scratchpad for the threads
  // it is created under (its own primitive cache keys on them too), so a plan made for 2 threads
  // is not run with 4.
  char buf[192];
  snprintf(buf, sizeof buf, "%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%d,%d,t%d", static_cast<long>(n), static_cast<long>(c),
           static_cast<long>(h), static_cast<long>(w), static_cast<long>(k), static_cast<long>(pt), static_cast<long>(pb),
           static_cast<long>(pw), channelsLast, bias, at::get_num_threads());
  return buf;
}

memory::desc Problem::srcUser(int64_t rows) const {
  return channelsLast ? memory::desc({n, c, h, w}, memory::data_type::f32, {rows * w * c, 1, w * c, c})
                      : memory::desc({n, c, h, w}, memory::data_type::f32, {c * rows * w, rows * w, w, 1});
}

memory::desc Problem::dstUser(int64_t rows) const {
  const int64_t oh_ = oh(), ow_ = ow();
  return channelsLast ? memory::desc({n, k, oh_, ow_}, memory::data_type::f32, {rows * ow_ * k, 1, ow_ * k, k})
                      : memory::desc({n, k, oh_, ow_}, memory::data_type::f32, {k * rows * ow_, rows * ow_, ow_, 1});
}

namespace {
std::mutex planMutex;
std::unordered_map<std::string, std::unique_ptr<Plan>> plans;

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

memory::desc anyDesc(const memory::dims& d) { return {d, memory::data_type::f32, tag::any}; }
}  // namespace

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
                                        {p.pt, p.pw}, {p.pb, p.pw});
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
  dnnl::convolution_backward_data::desc dd(alg, anyDesc(src), anyDesc(wei), anyDesc(dst), {1, 1}, {0, 0}, {p.pt, p.pw},
                                           {p.pb, p.pw});
  plan.bwdDataPd = dnnl::convolution_backward_data::primitive_desc(dd, userScratchpad(), cpuEngine(), plan.fwdPd);
  dnnl::convolution_backward_weights::desc wd(alg, anyDesc(src), anyDesc(wei), biasMd, anyDesc(dst), {1, 1}, {0, 0},
                                              {p.pt, p.pw}, {p.pb, p.pw});
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

// A kernel's scratchpad, held by `keep` (grown when a later call of the same operation needs
// more) and freed with it: a per-thread pad kept at the largest size any layer asked for (a deep
// layer's transformed weights: 44 MB for a ResNet-34 U-Net) would stay allocated through the
// big early and late layers, where the process's peak memory is; segkit's allocator hands the
// same pages out again without page faults.
memory scratchpad(const memory::desc& md, at::Tensor& keep) {
  if (!keep.defined() || keep.numel() < static_cast<int64_t>(md.get_size())) {
    keep = at::Tensor();
    keep = buffer(md);
  }
  return memory(md, cpuEngine(), keep.data_ptr());
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

}  // namespace wino
}  // namespace segkit
#endif
