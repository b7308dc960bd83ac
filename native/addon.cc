// Module entry, per-environment state, argument helpers and the mapping of C++ exceptions
// to JS errors.
#include "common.h"

#include <c10/util/Exception.h>

#include <new>
#include <sstream>

namespace segkit {

int32_t Env::put(at::Tensor t) {
  ++live;
  if (!freeSlots.empty()) {
    int32_t id = freeSlots.back();
    freeSlots.pop_back();
    slots[id] = std::move(t);
    return id;
  }
  slots.push_back(std::move(t));
  return static_cast<int32_t>(slots.size() - 1);
}

void Env::release(int32_t id) {
  at::Tensor* t = liveSlot(id);
  if (!t) throw error("tensor id " + std::to_string(id) + " is not live (already disposed?)");
  t->reset();
  freeSlots.push_back(id);
  --live;
}

void throwJs(napi_env env, const JsError& e) {
  switch (e.kind) {
    case JsError::kTypeError: napi_throw_type_error(env, nullptr, e.message.c_str()); break;
    case JsError::kRangeError: napi_throw_range_error(env, nullptr, e.message.c_str()); break;
    default: napi_throw_error(env, nullptr, e.message.c_str());
  }
}

static bool looksLikeOom(const std::string& m) {
  return m.find("not enough memory") != std::string::npos || m.find("can't allocate memory") != std::string::npos || m.find("out of memory") != std::string::npos || m.find("overflow") != std::string::npos ||
         m.find("Out of memory") != std::string::npos;
}

// c10 messages end with a C++ backtrace and "Exception raised from ..." lines that mean
// nothing to a JS user: keep the message itself.
static std::string firstPart(const std::string& m) {
  std::string s = m;
  size_t cut = s.find("\nException raised from");
  if (cut != std::string::npos) s = s.substr(0, cut);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void throwCurrent(napi_env env, const std::string& context, const std::string& suffix) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  std::string prefix = context.empty() ? "" : context + ": ";
  // The input shapes go last so the message reads "op: what went wrong (inputs)".
  auto with = [&](JsError err) {
    err.message += suffix;
    throwJs(env, err);
  };
  try {
    throw;
  } catch (const JsError& e) {
    with({e.kind, prefix + e.message});
  } catch (const c10::IndexError& e) {
    with(rangeError(prefix + firstPart(e.what_without_backtrace())));
  } catch (const c10::OutOfMemoryError& e) {
    with(rangeError(prefix + firstPart(e.what_without_backtrace())));
  } catch (const c10::TypeError& e) {
    with(typeError(prefix + firstPart(e.what_without_backtrace())));
  } catch (const c10::Error& e) {
    std::string m = firstPart(e.what_without_backtrace());
    with(looksLikeOom(m) ? rangeError(prefix + m) : error(prefix + m));
  } catch (const std::bad_alloc&) {
    with(rangeError(prefix + "out of memory (std::bad_alloc)"));
  } catch (const std::exception& e) {
    std::string m = firstPart(e.what());
    with(looksLikeOom(m) ? rangeError(prefix + m) : error(prefix + m));
  } catch (...) {
    with(error(prefix + "unknown native exception"));
  }
}

bool isNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

std::string typeName(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: {
      bool arr = false;
      napi_is_array(env, v, &arr);
      return arr ? "array" : "object";
    }
    case napi_function: return "function";
    case napi_bigint: return "bigint";
    default: return "value";
  }
}

int32_t int32Arg(napi_env env, napi_value v, const char* what) {
  int32_t out;
  if (napi_get_value_int32(env, v, &out) != napi_ok) {
    throw typeError(std::string(what) + " must be a number, got " + typeName(env, v));
  }
  return out;
}

double numberArg(napi_env env, napi_value v, const char* what) {
  double out;
  if (napi_get_value_double(env, v, &out) != napi_ok) {
    throw typeError(std::string(what) + " must be a number, got " + typeName(env, v));
  }
  return out;
}

bool boolArg(napi_env env, napi_value v, const char* what) {
  bool out;
  if (napi_get_value_bool(env, v, &out) != napi_ok) {
    throw typeError(std::string(what) + " must be a boolean, got " + typeName(env, v));
  }
  return out;
}

std::string stringArg(napi_env env, napi_value v, const char* what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    throw typeError(std::string(what) + " must be a string, got " + typeName(env, v));
  }
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

napi_value element(napi_env env, napi_value arr, uint32_t i) {
  napi_value r;
  napi_get_element(env, arr, i, &r);
  return r;
}

std::vector<int64_t> intListArg(napi_env env, napi_value v, const char* what) {
  bool arr = false;
  napi_is_array(env, v, &arr);
  if (!arr) throw typeError(std::string(what) + " must be an array of integers, got " + typeName(env, v));
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; ++i) {
    double d = numberArg(env, element(env, v, i), what);
    if (d != static_cast<double>(static_cast<int64_t>(d))) {
      throw typeError(std::string(what) + " must hold integers, got " + std::to_string(d) + " at index " + std::to_string(i));
    }
    out[i] = static_cast<int64_t>(d);
  }
  return out;
}

const at::Tensor& tensorArg(napi_env env, Env* e, napi_value v, const char* what) {
  int32_t id;
  if (napi_get_value_int32(env, v, &id) != napi_ok) {
    throw typeError(std::string(what) + " must be a Tensor, got " + typeName(env, v));
  }
  const at::Tensor* t = e->liveSlot(id);
  if (!t) throw error(std::string(what) + " is a disposed tensor");
  return *t;
}

napi_value makeInt(napi_env env, int64_t v) {
  napi_value r;
  if (v >= INT32_MIN && v <= INT32_MAX) napi_create_int32(env, static_cast<int32_t>(v), &r);
  else napi_create_double(env, static_cast<double>(v), &r);
  return r;
}
napi_value makeNumber(napi_env env, double v) { napi_value r; napi_create_double(env, v, &r); return r; }
napi_value makeBool(napi_env env, bool v) { napi_value r; napi_get_boolean(env, v, &r); return r; }
napi_value makeString(napi_env env, const std::string& s) {
  napi_value r;
  napi_create_string_utf8(env, s.data(), s.size(), &r);
  return r;
}
napi_value makeNull(napi_env env) { napi_value r; napi_get_null(env, &r); return r; }
napi_value makeUndefined(napi_env env) { napi_value r; napi_get_undefined(env, &r); return r; }
napi_value makeIntArray(napi_env env, c10::IntArrayRef v) {
  napi_value arr;
  napi_create_array_with_length(env, v.size(), &arr);
  for (size_t i = 0; i < v.size(); ++i) napi_set_element(env, arr, i, makeInt(env, v[i]));
  return arr;
}

static const char* dtypeName(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(s);
  }
}

std::string describe(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << dtypeName(t.scalar_type()) << "[";
  for (int64_t i = 0; i < t.dim(); ++i) os << (i ? ", " : "") << t.size(i);
  os << "]";
  if (!t.device().is_cpu()) os << "@" << t.device().str();
  return os.str();
}

void registerFunction(napi_env env, napi_value exports, Env* e, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, e, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static void finalizeEnv(napi_env, void* data, void*) { delete static_cast<Env*>(data); }

static napi_value Init(napi_env env, napi_value exports) {
  auto* e = new Env();
  napi_set_instance_data(env, e, finalizeEnv, nullptr);
  initTensor(env, exports, e);
  initDispatch(env, exports, e);
  initRuntime(env, exports, e);
  initAllocator(env, exports, e);
  void initCrf(napi_env, napi_value, Env*); initCrf(env, exports, e);  // native/crf.cc
  void initOptim(napi_env, napi_value, Env*); initOptim(env, exports, e);  // native/optim.cc
  void initDnnlConv(napi_env, napi_value, Env*); initDnnlConv(env, exports, e);  // native/dnnl_conv.cc
  return exports;
}

}  // namespace segkit

NAPI_MODULE(NODE_GYP_MODULE_NAME, segkit::Init)
