// The op dispatcher: any `aten::` operator is called by handle through c10's boxed
// dispatcher, which runs the same autograd/autocast kernels as PyTorch. JS arguments are
// converted by the operator's schema, so the TypeScript layer stays a thin, typed veneer.
#include "common.h"

#include <sstream>

namespace segkit {

static constexpr size_t kMaxArgs = 32;

struct ArgCtx {
  napi_env env;
  Env* e;
  const c10::Argument& arg;
};

[[noreturn]] static void badArg(const ArgCtx& c, napi_value v, const std::string& expected) {
  throw typeError("argument '" + c.arg.name() + "' expected " + expected + ", got " + typeName(c.env, v));
}

static int64_t toInt(const ArgCtx& c, napi_value v) {
  napi_valuetype t;
  napi_typeof(c.env, v, &t);
  if (t == napi_bigint) {
    int64_t out;
    bool lossless;
    napi_get_value_bigint_int64(c.env, v, &out, &lossless);
    return out;
  }
  if (t == napi_boolean) return boolArg(c.env, v, "") ? 1 : 0;
  if (t != napi_number) badArg(c, v, "an integer");
  double d;
  napi_get_value_double(c.env, v, &d);
  if (d != static_cast<double>(static_cast<int64_t>(d))) {
    throw typeError("argument '" + c.arg.name() + "' expected an integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

static double toDouble(const ArgCtx& c, napi_value v) {
  double d;
  if (napi_get_value_double(c.env, v, &d) != napi_ok) badArg(c, v, "a number");
  return d;
}

static at::Tensor toTensor(const ArgCtx& c, napi_value v) {
  int32_t id;
  if (napi_get_value_int32(c.env, v, &id) != napi_ok) badArg(c, v, "a Tensor");
  const at::Tensor* t = c.e->liveSlot(id);
  if (!t) throw error("argument '" + c.arg.name() + "' is a disposed tensor");
  return *t;
}

static c10::Scalar toScalar(const ArgCtx& c, napi_value v) {
  napi_valuetype t;
  napi_typeof(c.env, v, &t);
  if (t == napi_boolean) return c10::Scalar(boolArg(c.env, v, ""));
  if (t == napi_bigint) return c10::Scalar(toInt(c, v));
  if (t != napi_number) badArg(c, v, "a number");
  double d;
  napi_get_value_double(c.env, v, &d);
  // JS has one number type; an integral value acts as a Python int (keeps integer dtypes).
  if (std::abs(d) < 9007199254740992.0 && d == static_cast<double>(static_cast<int64_t>(d))) {
    return c10::Scalar(static_cast<int64_t>(d));
  }
  return c10::Scalar(d);
}

static uint32_t arrayLength(const ArgCtx& c, napi_value v, const std::string& expected) {
  bool arr = false;
  napi_is_array(c.env, v, &arr);
  if (!arr) badArg(c, v, expected);
  uint32_t n = 0;
  napi_get_array_length(c.env, v, &n);
  return n;
}

static c10::IValue toIValue(const ArgCtx& c, napi_value v, const c10::TypePtr& type);

static c10::IValue toList(const ArgCtx& c, napi_value v, const c10::ListTypePtr& lt) {
  const c10::TypePtr& el = lt->getElementType();
  auto kind = el->kind();
  napi_valuetype jt;
  napi_typeof(c.env, v, &jt);
  if (kind == c10::TypeKind::IntType || kind == c10::TypeKind::SymIntType) {
    if (jt == napi_number) {  // int[2] given as one int is repeated, as in PyTorch
      int64_t x = toInt(c, v);
      return c10::IValue(std::vector<int64_t>(c.arg.N() ? *c.arg.N() : 1, x));
    }
    uint32_t n = arrayLength(c, v, "an integer or an array of integers");
    std::vector<int64_t> out(n);
    for (uint32_t i = 0; i < n; ++i) out[i] = toInt(c, element(c.env, v, i));
    return c10::IValue(std::move(out));
  }
  if (kind == c10::TypeKind::FloatType) {
    if (jt == napi_number) return c10::IValue(std::vector<double>(c.arg.N() ? *c.arg.N() : 1, toDouble(c, v)));
    uint32_t n = arrayLength(c, v, "an array of numbers");
    std::vector<double> out(n);
    for (uint32_t i = 0; i < n; ++i) out[i] = toDouble(c, element(c.env, v, i));
    return c10::IValue(std::move(out));
  }
  uint32_t n = arrayLength(c, v, "an array (" + lt->str() + ")");
  if (kind == c10::TypeKind::BoolType) {
    c10::List<bool> out;
    for (uint32_t i = 0; i < n; ++i) out.push_back(boolArg(c.env, element(c.env, v, i), c.arg.name().c_str()));
    return c10::IValue(std::move(out));
  }
  if (kind == c10::TypeKind::TensorType) {
    c10::List<at::Tensor> out;
    out.reserve(n);
    for (uint32_t i = 0; i < n; ++i) out.push_back(toTensor(c, element(c.env, v, i)));
    return c10::IValue(std::move(out));
  }
  if (kind == c10::TypeKind::OptionalType &&
      el->castRaw<c10::OptionalType>()->getElementType()->kind() == c10::TypeKind::TensorType) {
    c10::List<c10::optional<at::Tensor>> out;
    for (uint32_t i = 0; i < n; ++i) {
      napi_value x = element(c.env, v, i);
      if (isNullish(c.env, x)) out.push_back(c10::nullopt);
      else out.push_back(toTensor(c, x));
    }
    return c10::IValue(std::move(out));
  }
  throw typeError("argument '" + c.arg.name() + "' has type " + lt->str() + ", which segkit cannot pass from JS");
}

static c10::IValue toIValue(const ArgCtx& c, napi_value v, const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType: return toTensor(c, v);
    case c10::TypeKind::OptionalType:
      if (isNullish(c.env, v)) return c10::IValue();
      return toIValue(c, v, type->castRaw<c10::OptionalType>()->getElementType());
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
    case c10::TypeKind::ScalarTypeType:
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType: return toInt(c, v);
    case c10::TypeKind::FloatType: return toDouble(c, v);
    case c10::TypeKind::NumberType: return toScalar(c, v);
    case c10::TypeKind::BoolType: {
      bool b;
      if (napi_get_value_bool(c.env, v, &b) != napi_ok) badArg(c, v, "a boolean");
      return b;
    }
    case c10::TypeKind::StringType: return stringArg(c.env, v, c.arg.name().c_str());
    case c10::TypeKind::DeviceObjType: return c10::Device(stringArg(c.env, v, c.arg.name().c_str()));
    case c10::TypeKind::ListType: return toList(c, v, type->cast<c10::ListType>());
    case c10::TypeKind::GeneratorType:
    case c10::TypeKind::NoneType: return c10::IValue();
    default: throw typeError("argument '" + c.arg.name() + "' has type " + type->str() + ", which segkit cannot pass from JS");
  }
}

static napi_value fromIValue(napi_env env, Env* e, c10::IValue& v) {
  if (v.isTensor()) {
    at::Tensor t = std::move(v).toTensor();
    return t.defined() ? makeInt(env, e->put(std::move(t))) : makeNull(env);
  }
  if (v.isNone()) return makeNull(env);
  if (v.isInt()) return makeInt(env, v.toInt());
  if (v.isDouble()) return makeNumber(env, v.toDouble());
  if (v.isBool()) return makeBool(env, v.toBool());
  if (v.isScalar()) return makeNumber(env, v.toScalar().toDouble());
  if (v.isString()) return makeString(env, v.toStringRef());
  if (v.isList() || v.isTuple()) {
    std::vector<c10::IValue> items;
    if (v.isList()) {
      for (const c10::IValue& x : v.toListRef()) items.push_back(x);
    } else {
      for (const c10::IValue& x : v.toTupleRef().elements()) items.push_back(x);
    }
    napi_value arr;
    napi_create_array_with_length(env, items.size(), &arr);
    for (size_t i = 0; i < items.size(); ++i) napi_set_element(env, arr, i, fromIValue(env, e, items[i]));
    return arr;
  }
  if (v.isDevice()) return makeString(env, v.toDevice().str());
  throw error("cannot return a value of type " + v.tagKind() + " to JS");
}

static const Op& opArg(napi_env env, Env* e, napi_value v) {
  int32_t id;
  if (napi_get_value_int32(env, v, &id) != napi_ok || id < 0 || static_cast<size_t>(id) >= e->ops.size()) {
    throw typeError("invalid op handle");
  }
  return e->ops[id];
}

// Names the inputs in an error message, so "expected 3 channels" comes with the shapes.
static std::string describeInputs(napi_env env, Env* e, const c10::FunctionSchema& schema, napi_value* argv, size_t argc) {
  std::ostringstream os;
  bool any = false;
  for (size_t i = 0; i < argc && i < schema.arguments().size(); ++i) {
    const c10::TypePtr& ty = schema.arguments()[i].type();
    bool isTensor = ty->kind() == c10::TypeKind::TensorType ||
                    (ty->kind() == c10::TypeKind::OptionalType &&
                     ty->castRaw<c10::OptionalType>()->getElementType()->kind() == c10::TypeKind::TensorType);
    if (!isTensor) continue;
    int32_t id;
    if (napi_get_value_int32(env, argv[i], &id) != napi_ok) continue;
    const at::Tensor* t = e->liveSlot(id);
    if (!t) continue;
    os << (any ? ", " : "") << schema.arguments()[i].name() << ": " << describe(*t);
    any = true;
  }
  return any ? " (" + os.str() + ")" : "";
}

static napi_value invoke(napi_env env, napi_callback_info info, bool keepResult) {
  SK_ARGS(kMaxArgs + 1);
  const Op* op = nullptr;
  try {
    op = &opArg(env, e, argv[0]);
    const c10::FunctionSchema& schema = op->handle.schema();
    const auto& args = schema.arguments();
    size_t given = argc - 1;
    if (given > args.size()) {
      throw typeError("takes at most " + std::to_string(args.size()) + " arguments, got " + std::to_string(given));
    }
    torch::jit::Stack stack;
    stack.reserve(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      ArgCtx c{env, e, args[i]};
      if (i < given && !(isNullish(env, argv[i + 1]) && args[i].default_value())) {
        stack.emplace_back(toIValue(c, argv[i + 1], args[i].type()));
      } else if (args[i].default_value()) {
        stack.emplace_back(*args[i].default_value());
      } else if (args[i].type()->kind() == c10::TypeKind::OptionalType) {
        stack.emplace_back();
      } else {
        throw typeError("missing required argument '" + args[i].name() + "' (" + args[i].type()->str() + ")");
      }
    }
    op->handle.callBoxed(&stack);
    if (!keepResult) return nullptr;
    if (stack.size() == 1) return fromIValue(env, e, stack[0]);
    napi_value arr;
    napi_create_array_with_length(env, stack.size(), &arr);
    for (size_t i = 0; i < stack.size(); ++i) napi_set_element(env, arr, i, fromIValue(env, e, stack[i]));
    return arr;
  } catch (...) {
    std::string shapes;
    if (op) {
      try {
        shapes = describeInputs(env, e, op->handle.schema(), argv + 1, argc - 1);
      } catch (...) {
      }
    }
    throwCurrent(env, op ? op->name : "call", shapes);
    return nullptr;
  }
}

SK_FN(Call) { return invoke(env, info, true); }
SK_FN(CallVoid) { return invoke(env, info, false); }

// op(name, overload) -> handle, or -1 when there is no such operator.
SK_FN(OpHandle) {
  SK_ARGS(2);
  SK_ENTRY("op", {
    std::string name = stringArg(env, argv[0], "name");
    std::string overload = argc > 1 && !isNullish(env, argv[1]) ? stringArg(env, argv[1], "overload") : "";
    if (name.find("::") == std::string::npos) name = "aten::" + name;
    auto h = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!h) return makeInt(env, -1);
    e->ops.push_back({*h, overload.empty() ? name : name + "." + overload});
    return makeInt(env, static_cast<int64_t>(e->ops.size() - 1));
  })
}

// overloads(name) -> overload names ("" for the default one).
SK_FN(Overloads) {
  SK_ARGS(1);
  SK_ENTRY("overloads", {
    std::string name = stringArg(env, argv[0], "name");
    if (name.find("::") == std::string::npos) name = "aten::" + name;
    std::vector<std::string> out;
    for (const auto& on : c10::Dispatcher::singleton().getAllOpNames()) {
      if (on.name == name) out.push_back(on.overload_name);
    }
    napi_value arr;
    napi_create_array_with_length(env, out.size(), &arr);
    for (size_t i = 0; i < out.size(); ++i) napi_set_element(env, arr, i, makeString(env, out[i]));
    return arr;
  })
}

// opInfo(handle) -> { name, schema, args: [{ name, type, optional, hasDefault, kwargOnly }], returns: [type] }
SK_FN(OpInfo) {
  SK_ARGS(1);
  SK_ENTRY("opInfo", {
    const Op& op = opArg(env, e, argv[0]);
    const auto& schema = op.handle.schema();
    napi_value out, args, rets;
    napi_create_object(env, &out);
    napi_set_named_property(env, out, "name", makeString(env, op.name));
    std::ostringstream os;
    os << schema;
    napi_set_named_property(env, out, "schema", makeString(env, os.str()));
    napi_create_array(env, &args);
    for (size_t i = 0; i < schema.arguments().size(); ++i) {
      const auto& a = schema.arguments()[i];
      napi_value o;
      napi_create_object(env, &o);
      napi_set_named_property(env, o, "name", makeString(env, a.name()));
      napi_set_named_property(env, o, "type", makeString(env, a.type()->str()));
      napi_set_named_property(env, o, "hasDefault", makeBool(env, a.default_value().has_value()));
      napi_set_named_property(env, o, "kwargOnly", makeBool(env, a.kwarg_only()));
      napi_set_named_property(env, o, "isWrite", makeBool(env, a.alias_info() && a.alias_info()->isWrite()));
      napi_set_element(env, args, i, o);
    }
    napi_set_named_property(env, out, "args", args);
    napi_create_array(env, &rets);
    for (size_t i = 0; i < schema.returns().size(); ++i) {
      napi_set_element(env, rets, i, makeString(env, schema.returns()[i].type()->str()));
    }
    napi_set_named_property(env, out, "returns", rets);
    return out;
  })
}

void initDispatch(napi_env env, napi_value exports, Env* e) {
  registerFunction(env, exports, e, "op", OpHandle);
  registerFunction(env, exports, e, "overloads", Overloads);
  registerFunction(env, exports, e, "opInfo", OpInfo);
  registerFunction(env, exports, e, "call", Call);
  registerFunction(env, exports, e, "callVoid", CallVoid);
}

}  // namespace segkit
