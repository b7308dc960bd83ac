// The oneDNN side of segkit::conv2d_winograd (dnnl_conv.cc): problems, their cached primitives
// ("plans"), and the memory helpers that move tensors between libtorch's layouts and the blocked
// layouts oneDNN's kernels want. Compiled only where oneDNN's headers are (SEGKIT_DNNL).
#pragma once
#if SEGKIT_DNNL
#include <ATen/ATen.h>
#include <dnnl.hpp>

#include <string>

namespace segkit {
namespace wino {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// One problem: shapes, padding (top, bottom, left = right), memory format and bias. A band of
// rows of a larger map has its own top and bottom padding (0 inside the map).
struct Problem {
  int64_t n, c, h, w, k, pt, pb, pw;
  bool channelsLast, bias;
  std::string key() const;
  int64_t oh() const { return h + pt + pb - 2; }
  int64_t ow() const { return w + 2 * pw - 2; }
  // The user's memory of this problem's input and output: `rows` of the full map (the band's
  // own rows when it is the whole map), so a band's rows are strided inside it.
  memory::desc srcUser(int64_t rows) const;
  memory::desc dstUser(int64_t rows) const;
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

Plan& planFor(const Problem& p);
void makeBackward(const Problem& p, Plan& plan);

at::Tensor buffer(const memory::desc& md);
memory scratchpad(const memory::desc& md, at::Tensor& keep);
memory intoLayout(const memory::desc& userMd, void* data, const memory::desc& want, at::Tensor& keep);
memory asLayout(const memory::desc& userMd, void* data, const memory::desc& want, at::Tensor& keep);
void fromLayout(memory m, const memory::desc& userMd, void* data);

}  // namespace wino
}  // namespace segkit
#endif
