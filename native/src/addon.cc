// Module entry: engine, threads, build information, and the kernel families.
#include <malloc.h>
#include <omp.h>

#include <cstdlib>
#include <string>
#include <stdexcept>

#include "attention_common.h"
#include "common.h"

namespace sasa {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

static int gThreads = 0;
static bool gMallocTuned = false;

int numThreads() { return gThreads; }

void setNumThreads(int n) {
  gThreads = n < 1 ? 1 : n;
  omp_set_num_threads(gThreads);
}

[[noreturn]] void fail(const char* op, const std::string& message) {
  throw std::invalid_argument(std::string(op) + ": " + message);
}

float* floatArg(const Napi::CallbackInfo& info, size_t i, const char* what, size_t minLength) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Float32Array");
  }
  auto array = info[i].As<Napi::Float32Array>();
  if (array.ElementLength() < minLength) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " has " +
                                                std::to_string(array.ElementLength()) +
                                                " elements, needs " + std::to_string(minLength));
  }
  return array.Data();
}

const int32_t* intsArg(const Napi::CallbackInfo& info, size_t i, const char* what,
                       size_t minLength) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[i].As<Napi::Int32Array>().ElementLength() < minLength) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int32Array of " +
                                               std::to_string(minLength) + " elements");
  }
  return info[i].As<Napi::Int32Array>().Data();
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int64Value();
}

double numArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  return info[i].As<Napi::Number>().DoubleValue();
}

double optNumArg(const Napi::CallbackInfo& info, size_t i, const char* what, double fallback) {
  if (i >= info.Length() || info[i].IsUndefined()) return fallback;
  return numArg(info, i, what);
}

Napi::Object objectArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsObject() || info[i].IsTypedArray() || info[i].IsArray()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an object with named fields");
  }
  return info[i].As<Napi::Object>();
}

static Napi::Value field(const Napi::Object& o, const char* what, const char* name, bool (Napi::Value::*is)() const,
                         const char* type) {
  Napi::Value v = o.Get(name);
  if (!(v.*is)()) {
    throw Napi::TypeError::New(o.Env(), std::string(what) + "." + name + " must be a " + type);
  }
  return v;
}

int64_t intField(const Napi::Object& o, const char* what, const char* name) {
  const double v = field(o, what, name, &Napi::Value::IsNumber, "number").As<Napi::Number>().DoubleValue();
  if (v != static_cast<double>(static_cast<int64_t>(v))) {
    throw Napi::TypeError::New(o.Env(), std::string(what) + "." + name + " must be an integer");
  }
  return static_cast<int64_t>(v);
}

double numField(const Napi::Object& o, const char* what, const char* name) {
  return field(o, what, name, &Napi::Value::IsNumber, "number").As<Napi::Number>().DoubleValue();
}

bool boolField(const Napi::Object& o, const char* what, const char* name) {
  return field(o, what, name, &Napi::Value::IsBoolean, "boolean").As<Napi::Boolean>().Value();
}

bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

static const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    default: return "other";
  }
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dnnl_version_t* v = dnnl_version();
  Napi::Object out = Napi::Object::New(env);
  out.Set("onednnVersion", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                               std::to_string(v->patch));
  out.Set("onednnHash", v->hash);
  out.Set("isa", isaName(dnnl::get_effective_cpu_isa()));
  out.Set("threads", numThreads());
  out.Set("mallocTuned", gMallocTuned);
  out.Set("openmp", _OPENMP);
  out.Set("maxKernelSize", static_cast<double>(attention::kMaxWindow));
#if defined(__AVX512F__)
  out.Set("compiledFor", "avx512");
#elif defined(__AVX2__) && defined(__FMA__)
  out.Set("compiledFor", "avx2+fma");
#else
  out.Set("compiledFor", "generic");
#endif
  return out;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  setNumThreads(static_cast<int>(intArg(info, 0, "threads")));
  return Napi::Number::New(info.Env(), numThreads());
}

/**
 * Detaches an ArrayBuffer nothing will read again, so that its memory goes back to malloc now
 * instead of at V8's next garbage collection (src/backend/buffer_pool.ts's evictions).
 */
static Napi::Value ReleaseBuffer(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
    throw Napi::TypeError::New(info.Env(), "releaseBuffer: argument 0 must be an ArrayBuffer");
  }
  info[0].As<Napi::ArrayBuffer>().Detach();
  return info.Env().Undefined();
}

/** malloc's own account (mallinfo2, all arenas), in bytes: what the heap holds in use and free, and the mmapped blocks. */
static Napi::Value MallocStats(const Napi::CallbackInfo& info) {
  struct mallinfo2 m = mallinfo2();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("heapBytes", static_cast<double>(m.arena));
  out.Set("inUseBytes", static_cast<double>(m.uordblks));
  out.Set("freeBytes", static_cast<double>(m.fordblks));
  out.Set("mmappedBytes", static_cast<double>(m.hblkhd));
  return out;
}

/**
 * Hands malloc's free heap pages back to the OS (malloc_trim(0)): the heap is never trimmed otherwise
 * (tuneMalloc), and at the peak of a RetinaNet training step 130-190 MB of it lay free between live blocks.
 */
static Napi::Value TrimMalloc(const Napi::CallbackInfo& info) {
  malloc_trim(0);
  return info.Env().Undefined();
}

/**
 * Keeps freed tensor buffers in the heap for reuse instead of returning them to the OS: tfjs
 * allocates every output afresh, and faulting in new pages costs more than many kernels
 * (measured on these VMs: fresh 4 MB outputs tripled a 1024^3 matmul's time). Buffers up to
 * 32 MB come from the heap and the heap is not trimmed. One arena: memory freed by one thread
 * serves every thread's next allocation (each further arena held its own free memory: ~20 MB more
 * peak RSS in a RetinaNet training step). SASA_MALLOC_TUNING=0 turns this off.
 */
static bool tuneMalloc() {
  const char* v = std::getenv("SASA_MALLOC_TUNING");
  if (v && std::string(v) == "0") return false;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  mallopt(M_ARENA_MAX, 1);
  return true;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  gMallocTuned = tuneMalloc();
  int threads = omp_get_num_procs();
  if (const char* s = std::getenv("SASA_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) threads = n;
  }
  setNumThreads(threads);
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("releaseBuffer", Napi::Function::New(env, ReleaseBuffer));
  exports.Set("mallocStats", Napi::Function::New(env, MallocStats));
  exports.Set("trimMalloc", Napi::Function::New(env, TrimMalloc));
  registerConv(env, exports);
  registerMatmul(env, exports);
  registerBatchNorm(env, exports);
  registerPool(env, exports);
  registerEltwise(env, exports);
  registerSgdUpdate(env, exports);
  registerReduce(env, exports);
  registerLayout(env, exports);
  registerLocalAttention(env, exports);
  registerStemAttention(env, exports);
  registerFocalLoss(env, exports);
  return exports;
}

}  // namespace sasa

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return sasa::Init(env, exports);
}

NODE_API_MODULE(sasa_native, InitModule)
