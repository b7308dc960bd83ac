// Process-level switches: threads, grad and inference modes, RNG, backward, build info.
#include "common.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/api/include/torch/version.h>

#include <malloc.h>

#include <mutex>
#include <thread>

namespace segkit {

SK_FN(SetNumThreads) {
  SK_ARGS(1);
  SK_ENTRY("setNumThreads", {
    int32_t n = int32Arg(env, argv[0], "n");
    if (n < 1) throw rangeError("n must be a positive integer, got " + std::to_string(n));
    at::set_num_threads(n);
    return nullptr;
  })
}

SK_FN(GetNumThreads) {
  SK_ARGS(0);
  return makeInt(env, at::get_num_threads());
}

// Calls the JS function fn() (this = undefined) under whatever guard the caller holds. When fn
// throws, the exception stays pending for JS and the result is null; the caller's guard still
// restores the previous state as it goes out of scope.
static napi_value callUnder(napi_env env, napi_value fn) {
  napi_value result = nullptr;
  napi_call_function(env, makeUndefined(env), fn, 0, nullptr, &result);
  return result;
}

// Runs fn with grad mode set, restoring the previous mode even when fn throws.
SK_FN(WithGradMode) {
  SK_ARGS(2);
  SK_ENTRY("gradMode", {
    c10::AutoGradMode guard(boolArg(env, argv[0], "enabled"));
    return callUnder(env, argv[1]);
  })
}

// Runs fn with inference mode set, restoring the previous mode even when fn throws.
SK_FN(WithInferenceMode) {
  SK_ARGS(2);
  SK_ENTRY("inferenceMode", {
    c10::InferenceMode guard(boolArg(env, argv[0], "enabled"));
    return callUnder(env, argv[1]);
  })
}

// libtorch 2.4 replaced the per-device autocast setters (is_cpu_enabled, set_autocast_gpu_dtype,
// ...) by ones taking a DeviceType, and later releases drop the old names.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
static bool autocastEnabled(bool cpu) { return at::autocast::is_autocast_enabled(cpu ? at::kCPU : at::kCUDA); }
static at::ScalarType autocastDtype(bool cpu) { return at::autocast::get_autocast_dtype(cpu ? at::kCPU : at::kCUDA); }
static void setAutocast(bool cpu, bool on, at::ScalarType dt) {
  at::autocast::set_autocast_enabled(cpu ? at::kCPU : at::kCUDA, on);
  at::autocast::set_autocast_dtype(cpu ? at::kCPU : at::kCUDA, dt);
}
#else
static bool autocastEnabled(bool cpu) { return cpu ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled(); }
static at::ScalarType autocastDtype(bool cpu) {
  return cpu ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
static void setAutocast(bool cpu, bool on, at::ScalarType dt) {
  if (cpu) {
    at::autocast::set_cpu_enabled(on);
    at::autocast::set_autocast_cpu_dtype(dt);
  } else {
    at::autocast::set_enabled(on);
    at::autocast::set_autocast_gpu_dtype(dt);
  }
}
#endif

// withAutocast(deviceType, enabled, dtypeCode, fn): torch.autocast as a scope. Mirrors
// Python's __enter__/__exit__: the previous state comes back even when fn throws, and the
// cast cache is cleared when the outermost scope ends.
SK_FN(WithAutocast) {
  SK_ARGS(4);
  SK_ENTRY("autocast", {
    std::string device = stringArg(env, argv[0], "deviceType");
    bool enabled = boolArg(env, argv[1], "enabled");
    auto dtype = static_cast<at::ScalarType>(int32Arg(env, argv[2], "dtype"));
    bool cpu = device == "cpu";
    if (!cpu && device != "cuda") throw typeError("deviceType must be 'cpu' or 'cuda', got '" + device + "'");
    bool prevEnabled = autocastEnabled(cpu);
    at::ScalarType prevDtype = autocastDtype(cpu);
    setAutocast(cpu, enabled, dtype);
    at::autocast::increment_nesting();
    napi_value result = callUnder(env, argv[3]);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    setAutocast(cpu, prevEnabled, prevDtype);
    return result;
  })
}

SK_FN(IsAutocastEnabled) {
  SK_ARGS(1);
  SK_ENTRY("isAutocastEnabled", {
    std::string device = stringArg(env, argv[0], "deviceType");
    return makeBool(env, autocastEnabled(device == "cpu"));
  })
}

SK_FN(IsGradEnabled) {
  SK_ARGS(0);
  return makeBool(env, c10::GradMode::is_enabled());
}

// backendFlag(name, value?): torch.backends' switches (cudnn.allow_tf32, cudnn.benchmark,
// cudnn.deterministic, cuda.matmul.allow_tf32). Returns the value before the call; sets it when
// value is a boolean. The setters exist from libtorch 1.13 on and are no-ops without CUDA.
SK_FN(BackendFlag) {
  SK_ARGS(2);
  SK_ENTRY("backendFlag", {
    std::string name = stringArg(env, argv[0], "name");
    bool set = argc > 1 && !isNullish(env, argv[1]);
    bool value = set ? boolArg(env, argv[1], "value") : false;
    auto& ctx = at::globalContext();
    bool prev;
    if (name == "cudnn.allow_tf32") {
      prev = ctx.allowTF32CuDNN();
      if (set) ctx.setAllowTF32CuDNN(value);
    } else if (name == "cudnn.benchmark") {
      prev = ctx.benchmarkCuDNN();
      if (set) ctx.setBenchmarkCuDNN(value);
    } else if (name == "cudnn.deterministic") {
      prev = ctx.deterministicCuDNN();
      if (set) ctx.setDeterministicCuDNN(value);
    } else if (name == "cuda.matmul.allow_tf32") {
      prev = ctx.allowTF32CuBLAS();
      if (set) ctx.setAllowTF32CuBLAS(value);
    } else {
      throw typeError("unknown backend flag '" + name + "'");
    }
    return makeBool(env, prev);
  })
}

SK_FN(IsInferenceMode) {
  SK_ARGS(0);
  return makeBool(env, c10::InferenceMode::is_enabled());
}

SK_FN(ManualSeed) {
  SK_ARGS(1);
  SK_ENTRY("manualSeed", {
    double d = numberArg(env, argv[0], "seed");
    if (d < 0 || d != static_cast<double>(static_cast<uint64_t>(d))) {
      throw rangeError("seed must be a non-negative integer, got " + std::to_string(d));
    }
    auto seed = static_cast<uint64_t>(d);
    auto gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    if (at::hasCUDA()) {
      // Context::defaultGenerator and at::getNumGPUs exist from libtorch 1.13 to 2.x; the CUDA
      // hooks' generator getter was renamed in between.
      for (int i = 0; i < static_cast<int>(at::getNumGPUs()); ++i) {
        auto g = at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i)));
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_current_seed(seed);
      }
    }
    return nullptr;
  })
}

// A generator's state as a uint8 tensor, for checkpoints that resume bit-exactly: the CPU's
// (device argument absent or null) or CUDA device i's.
static at::Generator generatorArg(napi_env env, size_t argc, napi_value* argv, size_t at) {
  if (argc <= at || isNullish(env, argv[at])) return at::detail::getDefaultCPUGenerator();
  int i = int32Arg(env, argv[at], "device");
  int n = at::hasCUDA() ? static_cast<int>(at::getNumGPUs()) : 0;
  if (i < 0 || i >= n) throw rangeError("device must be a CUDA device index in [0, " + std::to_string(n) + "), got " + std::to_string(i));
  return at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i)));
}

SK_FN(GetRngState) {
  SK_ARGS(1);
  SK_ENTRY("getRngState", {
    auto gen = generatorArg(env, argc, argv, 0);
    std::lock_guard<std::mutex> lock(gen.mutex());
    return makeInt(env, e->put(gen.get_state()));
  })
}

SK_FN(SetRngState) {
  SK_ARGS(2);
  SK_ENTRY("setRngState", {
    const at::Tensor& s = tensorArg(env, e, argv[0], "state");
    auto gen = generatorArg(env, argc, argv, 1);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(s);
    return nullptr;
  })
}

static std::vector<at::Tensor> tensorList(napi_env env, Env* e, napi_value v, const char* what) {
  std::vector<at::Tensor> out;
  if (isNullish(env, v)) return out;
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  for (uint32_t i = 0; i < n; ++i) {
    napi_value x = element(env, v, i);
    out.push_back(isNullish(env, x) ? at::Tensor() : tensorArg(env, e, x, what));
  }
  return out;
}

// backward(tensorIds, gradIds | null, retainGraph, createGraph)
SK_FN(Backward) {
  SK_ARGS(4);
  SK_ENTRY("backward", {
    auto tensors = tensorList(env, e, argv[0], "tensor");
    auto grads = tensorList(env, e, argv[1], "gradient");
    bool create = boolArg(env, argv[3], "createGraph");
    c10::optional<bool> retain;
    if (!isNullish(env, argv[2])) retain = boolArg(env, argv[2], "retainGraph");
    for (size_t i = 0; i < tensors.size(); ++i) {
      const at::Tensor& t = tensors[i];
      if (!t.requires_grad()) {
        throw error("element " + std::to_string(i) + " of tensors does not require grad and does not have a grad_fn (" + describe(t) + ")");
      }
      bool hasGrad = i < grads.size() && grads[i].defined();
      if (!hasGrad && t.numel() != 1) {
        throw error("grad can be implicitly created only for scalar outputs; pass a gradient of shape " + describe(t));
      }
      if (hasGrad && grads[i].sizes() != t.sizes()) {
        throw rangeError("gradient " + describe(grads[i]) + " must have the shape of the tensor " + describe(t));
      }
    }
    torch::autograd::backward(tensors, grads, retain, create);
    return nullptr;
  })
}

// setAllocatorCache(bytes): lets glibc serve and keep blocks up to `bytes` from its heap
// instead of mapping and unmapping each large tensor, which costs thousands of page faults a
// training step. Process-wide; glibc only, so elsewhere it reports false.
SK_FN(SetAllocatorCache) {
  SK_ARGS(1);
  SK_ENTRY("setAllocatorCache", {
    double bytes = numberArg(env, argv[0], "bytes");
    if (!(bytes >= 0) || bytes > 2147483647.0) throw rangeError("bytes must be between 0 and 2^31 - 1, got " + std::to_string(bytes));
#ifdef __GLIBC__
    // glibc's starting values when bytes is 0; its dynamic threshold stays off (see runtime.ts).
    int v = bytes == 0 ? 128 * 1024 : static_cast<int>(bytes);
    bool ok = mallopt(M_MMAP_THRESHOLD, v) == 1 && mallopt(M_TRIM_THRESHOLD, v) == 1;
    return makeBool(env, ok);
#else
    return makeBool(env, false);
#endif
  })
}

// info() -> { version, cuda, cudaDevices, config, parallel }
SK_FN(Info) {
  SK_ARGS(0);
  SK_ENTRY("info", {
    napi_value out;
    napi_create_object(env, &out);
    napi_set_named_property(env, out, "version", makeString(env, TORCH_VERSION));
    bool cuda = at::hasCUDA();
    napi_set_named_property(env, out, "cuda", makeBool(env, cuda));
    napi_set_named_property(env, out, "cudaDevices", makeInt(env, cuda ? static_cast<int>(at::getNumGPUs()) : 0));
    napi_set_named_property(env, out, "config", makeString(env, at::show_config()));
    napi_set_named_property(env, out, "parallel", makeString(env, at::get_parallel_info()));
    napi_set_named_property(env, out, "mkldnn", makeBool(env, at::hasMKLDNN()));
    napi_set_named_property(env, out, "hardwareConcurrency", makeInt(env, std::thread::hardware_concurrency()));
    return out;
  })
}

void initRuntime(napi_env env, napi_value exports, Env* e) {
  registerFunction(env, exports, e, "setNumThreads", SetNumThreads);
  registerFunction(env, exports, e, "getNumThreads", GetNumThreads);
  registerFunction(env, exports, e, "withGradMode", WithGradMode);
  registerFunction(env, exports, e, "withInferenceMode", WithInferenceMode);
  registerFunction(env, exports, e, "isGradEnabled", IsGradEnabled);
  registerFunction(env, exports, e, "withAutocast", WithAutocast);
  registerFunction(env, exports, e, "isAutocastEnabled", IsAutocastEnabled);
  registerFunction(env, exports, e, "isInferenceMode", IsInferenceMode);
  registerFunction(env, exports, e, "manualSeed", ManualSeed);
  registerFunction(env, exports, e, "getRngState", GetRngState);
  registerFunction(env, exports, e, "setRngState", SetRngState);
  registerFunction(env, exports, e, "backward", Backward);
  registerFunction(env, exports, e, "info", Info);
  registerFunction(env, exports, e, "backendFlag", BackendFlag);
  registerFunction(env, exports, e, "setAllocatorCache", SetAllocatorCache);
}

}  // namespace segkit
