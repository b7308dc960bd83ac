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

  // The tensor under id, or nullptr when id is out of range or its tensor was disposed.
  at::Tensor* liveSlot(int32_t id) {
    if (id < 0 || static_cast<size_t>(id) >= slots.size() || !slots[id].defined()) return nullptr;
    return &slots[id];
  }
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

// Fills argv and argc (see SK_ARGS) and returns the Env the function was registered with.
inline Env* getEnv(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  void* data = nullptr;
  napi_get_cb_info(env, info, argc, argv, nullptr, &data);
  return static_cast<Env*>(data);
}

const at::Tensor& tensorArg(napi_env env, Env* e, napi_value v, const char* what);
int32_t int32Arg(napi_env env, napi_value v, const char* what);
double numberArg(napi_env env, napi_value v, const char* what);
bool boolArg(napi_env env, napi_value v, const char* what);
std::string stringArg(napi_env env, napi_value v, const char* what);
std::vector<int64_t> intListArg(napi_env env, napi_value v, const char* what);
// Element i of the JS array arr.
napi_value element(napi_env env, napi_value arr, uint32_t i);
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
void initAllocator(napi_env env, napi_value exports, Env* e);

}  // namespace segkit

// The signature of every N-API entry point; SK_ARGS and SK_ENTRY rely on its env and info.
#define SK_FN(name) static napi_value name(napi_env env, napi_callback_info info)

// An entry point's arguments, fetched first thing: declares argv (n values, those JS did not
// pass read as undefined), argc (how many JS passed, which may be more than n) and e (this
// environment's Env). Not every entry point reads all three.
#define SK_ARGS(n)                                     \
  [[maybe_unused]] size_t argc = (n);                  \
  [[maybe_unused]] napi_value argv[(n) > 0 ? (n) : 1]; \
  [[maybe_unused]] ::segkit::Env* e = ::segkit::getEnv(env, info, &argc, argv)

// Every N-API entry point runs its body through this, so no C++ exception reaches Node
// (which would abort the process).
#define SK_ENTRY(context, ...)               \
  try {                                      \
    __VA_ARGS__                              \
  } catch (...) {                            \
    ::segkit::throwCurrent(env, (context));  \
    return nullptr;                          \
  }
