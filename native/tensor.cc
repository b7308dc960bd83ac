// Tensor handles: creation from JS memory, reading back, metadata, autograd fields.
#include "common.h"

#include <torch/csrc/autograd/function.h>

#include <cstring>

namespace segkit {

static at::ScalarType dtypeArg(napi_env env, napi_value v) {
  int32_t code = int32Arg(env, v, "dtype");
  if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::NumOptions)) {
    throw typeError("unknown dtype code " + std::to_string(code));
  }
  return static_cast<at::ScalarType>(code);
}

// fromBuffer(typedArrayOrArrayBuffer, dtypeCode, shape) -> id. Copies: the JS buffer may be
// collected or mutated later, and libtorch must own what it frees.
SK_FN(FromBuffer) {
  SK_ARGS(3);
  SK_ENTRY("tensor", {
    at::ScalarType dtype = dtypeArg(env, argv[1]);
    std::vector<int64_t> shape = intListArg(env, argv[2], "shape");
    void* data = nullptr;
    size_t bytes = 0;
    bool isTyped = false, isAb = false;
    napi_is_typedarray(env, argv[0], &isTyped);
    napi_is_arraybuffer(env, argv[0], &isAb);
    if (isTyped) {
      napi_typedarray_type tt;
      size_t length, offset;
      napi_value ab;
      napi_get_typedarray_info(env, argv[0], &tt, &length, &data, &ab, &offset);
      napi_value bl;
      napi_get_named_property(env, argv[0], "byteLength", &bl);
      double d;
      napi_get_value_double(env, bl, &d);
      bytes = static_cast<size_t>(d);
    } else if (isAb) {
      napi_get_arraybuffer_info(env, argv[0], &data, &bytes);
    } else {
      throw typeError("data must be a typed array or ArrayBuffer");
    }
    for (int64_t s : shape) {
      if (s < 0) throw rangeError("shape must hold non-negative sizes, got " + std::to_string(s));
    }
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    size_t need = t.nbytes();
    if (need != bytes) {
      throw rangeError("data holds " + std::to_string(bytes) + " bytes but " + describe(t) + " needs " + std::to_string(need));
    }
    if (need) std::memcpy(t.data_ptr(), data, need);
    return makeInt(env, e->put(std::move(t)));
  })
}

// toBuffer(id) -> ArrayBuffer of the tensor's values, row-major, on the CPU. float16 and
// bfloat16 come back as float32 because JS has no typed array for them.
SK_FN(ToBuffer) {
  SK_ARGS(1);
  SK_ENTRY("toArray", {
    at::Tensor t = tensorArg(env, e, argv[0], "tensor").detach();
    if (!t.device().is_cpu()) t = t.cpu();
    if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16) t = t.to(at::kFloat);
    t = t.contiguous();
    void* out = nullptr;
    napi_value ab;
    size_t n = t.nbytes();
    if (napi_create_arraybuffer(env, n, &out, &ab) != napi_ok) {
      throw rangeError("cannot allocate a " + std::to_string(n) + "-byte ArrayBuffer for " + describe(t));
    }
    if (n) std::memcpy(out, t.data_ptr(), n);
    return ab;
  })
}

SK_FN(Item) {
  SK_ARGS(1);
  SK_ENTRY("item", {
    const at::Tensor& t = tensorArg(env, e, argv[0], "tensor");
    if (t.numel() != 1) {
      throw rangeError("a Tensor with " + std::to_string(t.numel()) + " elements cannot be converted to a number (" + describe(t) + ")");
    }
    return makeNumber(env, t.item().toDouble());
  })
}

SK_FN(Free) {
  SK_ARGS(1);
  SK_ENTRY("dispose", {
    e->release(int32Arg(env, argv[0], "id"));
    return nullptr;
  })
}

SK_FN(Live) {
  SK_ARGS(0);
  return makeInt(env, e->live);
}

// One-tensor property getters: name(id) -> value.
#define SK_GETTER(name, label, expr)                              \
  SK_FN(name) {                                                   \
    SK_ARGS(1);                                                   \
    SK_ENTRY(label, {                                             \
      const at::Tensor& t = tensorArg(env, e, argv[0], "tensor"); \
      return expr;                                                \
    })                                                            \
  }

SK_GETTER(Shape, "shape", makeIntArray(env, t.sizes()))
SK_GETTER(Strides, "stride", makeIntArray(env, t.strides()))
SK_GETTER(Dtype, "dtype", makeInt(env, static_cast<int>(t.scalar_type())))
SK_GETTER(Device, "device", makeString(env, t.device().str()))
SK_GETTER(RequiresGrad, "requiresGrad", makeBool(env, t.requires_grad()))
SK_GETTER(IsLeaf, "isLeaf", makeBool(env, t.is_leaf()))
SK_GETTER(GradFn, "gradFn", t.grad_fn() ? makeString(env, t.grad_fn()->name()) : makeNull(env))

// isContiguous(id, memoryFormatCode)
SK_FN(IsContiguous) {
  SK_ARGS(2);
  SK_ENTRY("isContiguous", {
    auto fmt = static_cast<at::MemoryFormat>(int32Arg(env, argv[1], "memoryFormat"));
    return makeBool(env, tensorArg(env, e, argv[0], "tensor").is_contiguous(fmt));
  })
}

SK_FN(SetRequiresGrad) {
  SK_ARGS(2);
  SK_ENTRY("requiresGrad_", {
    at::Tensor t = tensorArg(env, e, argv[0], "tensor");
    t.requires_grad_(boolArg(env, argv[1], "requiresGrad"));
    return nullptr;
  })
}

// grad(id, cachedId) -> id | null. Returns cachedId when the gradient is still the same
// TensorImpl (accumulation happens in place), so JS can hand back the same object on every read.
SK_FN(Grad) {
  SK_ARGS(2);
  SK_ENTRY("grad", {
    const at::Tensor& g = tensorArg(env, e, argv[0], "tensor").grad();
    if (!g.defined()) return makeNull(env);
    int32_t cached = int32Arg(env, argv[1], "cachedId");
    const at::Tensor* prev = e->liveSlot(cached);
    if (prev && prev->unsafeGetTensorImpl() == g.unsafeGetTensorImpl()) return makeInt(env, cached);
    return makeInt(env, e->put(g));
  })
}

// setGrad(id, gradId | -1)
SK_FN(SetGrad) {
  SK_ARGS(2);
  SK_ENTRY("grad", {
    at::Tensor t = tensorArg(env, e, argv[0], "tensor");
    int32_t gid = int32Arg(env, argv[1], "grad");
    if (gid < 0) {
      t.mutable_grad().reset();
    } else {
      const at::Tensor& g = tensorArg(env, e, argv[1], "grad");
      if (g.sizes() != t.sizes() || g.scalar_type() != t.scalar_type() || g.device() != t.device()) {
        throw rangeError("assigned grad " + describe(g) + " must match the tensor " + describe(t));
      }
      t.mutable_grad() = g;
    }
    return nullptr;
  })
}

// setData(id, srcId): PyTorch's `param.data = src`. The tensor keeps its identity (the JS
// handle, autograd leaf status) while its storage, dtype and device become src's; this is how
// Module.to() converts parameters without invalidating references to them.
SK_FN(SetData) {
  SK_ARGS(2);
  SK_ENTRY("setData", {
    at::Tensor t = tensorArg(env, e, argv[0], "tensor");
    const at::Tensor& src = tensorArg(env, e, argv[1], "src");
    t.set_data(src);
    return nullptr;
  })
}

SK_FN(SameStorage) {
  SK_ARGS(2);
  SK_ENTRY("sameStorage", {
    const at::Tensor& a = tensorArg(env, e, argv[0], "a");
    const at::Tensor& b = tensorArg(env, e, argv[1], "b");
    return makeBool(env, a.storage().is_alias_of(b.storage()));
  })
}

void initTensor(napi_env env, napi_value exports, Env* e) {
  registerFunction(env, exports, e, "fromBuffer", FromBuffer);
  registerFunction(env, exports, e, "toBuffer", ToBuffer);
  registerFunction(env, exports, e, "item", Item);
  registerFunction(env, exports, e, "free", Free);
  registerFunction(env, exports, e, "live", Live);
  registerFunction(env, exports, e, "shape", Shape);
  registerFunction(env, exports, e, "strides", Strides);
  registerFunction(env, exports, e, "dtype", Dtype);
  registerFunction(env, exports, e, "device", Device);
  registerFunction(env, exports, e, "isContiguous", IsContiguous);
  registerFunction(env, exports, e, "requiresGrad", RequiresGrad);
  registerFunction(env, exports, e, "setRequiresGrad", SetRequiresGrad);
  registerFunction(env, exports, e, "isLeaf", IsLeaf);
  registerFunction(env, exports, e, "gradFn", GradFn);
  registerFunction(env, exports, e, "grad", Grad);
  registerFunction(env, exports, e, "setGrad", SetGrad);
  registerFunction(env, exports, e, "sameStorage", SameStorage);
  registerFunction(env, exports, e, "setData", SetData);
}

}  // namespace segkit
