// Shared state and helpers of the segkit addon. Tensors live in a per-environment slot table
// and cross into JS as int32 ids: creating a JS object per tensor on the native side (napi_wrap)
// costs more than the whole of a small op, and ids keep addon state per worker thread.
#pragma once

#include <node_api.h>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <string>
#include <vector>

namespace segkit {

struct Op {
  c10::OperatorHandle handle;
  std::string name;  // "aten::add.Tensor", for error messages
};

struct Env {
  std::vector<at::Tensor> slots;
  std::vector<int32_t> freeSlots;
  std::vector<Op> ops;
  int64_t live = 0;

  int32_t put(at::Tensor t);
  void release(int32_t id);
};

// Raised by our own checks; carries the JS error class to throw.
struct JsError {
  enum Kind { kError, kTypeError, kRangeError } kind;
  std::string message;
};

inline JsError typeError(std::string m) { return {JsError::kTypeError, std::move(m)}; }
inline JsError rangeError(std::string m) { return {JsError::kRangeError, std::move(m)}; }
inline JsError error(std::string m) { return {JsError::kError, std::move(m)}; }

void throwJs(napi_env env, const JsError& e);
// Converts the exception in flight (c10, std, ours) into a pending JS exception.
void throwCurrent(napi_env env, const std::string& context, const std::string& suffix = "");

Env* getEnv(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv);
const at::Tensor& tensorArg(napi_env env, Env* e, napi_value v, const char* what);
int32_t int32Arg(napi_env env, napi_value v, const char* what);
double numberArg(napi_env env, napi_value v, const char* what);
bool boolArg(napi_env env, napi_value v, const char* what);
std::string stringArg(napi_env env, napi_value v, const char* what);
std::vector<int64_t> intListArg(napi_env env, napi_value v, const char* what);
bool isNullish(napi_env env, napi_value v);
// "number", "array", "null", ... for "expected X, got Y" messages.
std::string typeName(napi_env env, napi_value v);

napi_value makeInt(napi_env env, int64_t v);
napi_value makeNumber(napi_env env, double v);
napi_value makeBool(napi_env env, bool v);
napi_value makeString(napi_env env, const std::string& s);
napi_value makeNull(napi_env env);
napi_value makeUndefined(napi_env env);
napi_value makeIntArray(napi_env env, c10::IntArrayRef v);

// "float32[2, 3]" style description used in error messages.
std::string describe(const at::Tensor& t);

void registerFunction(napi_env env, napi_value exports, Env* e, const char* name, napi_callback cb);
void initTensor(napi_env env, napi_value exports, Env* e);
void initDispatch(napi_env env, napi_value exports, Env* e);
void initRuntime(napi_env env, napi_value exports, Env* e);

}  // namespace segkit

// Every N-API entry point runs its body through this, so no C++ exception reaches Node
// (which would abort the process).
#define SK_ENTRY(context, ...)               \
  try {                                      \
    __VA_ARGS__                              \
  } catch (...) {                            \
    ::segkit::throwCurrent(env, (context));  \
    return nullptr;                          \
  }
