// Shared helpers for the sasa native addon: argument access, the oneDNN engine, threads.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "oneapi/dnnl/dnnl.hpp"

namespace sasa {

/** The process-wide CPU engine and stream (oneDNN objects are cheap to share). */
dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

/** Number of OpenMP threads the addon uses (cores, or SASA_NUM_THREADS). */
int numThreads();
void setNumThreads(int n);

/** Float32Array argument `i` as a raw pointer; throws a JS TypeError naming `what` otherwise. */
float* floatArg(const Napi::CallbackInfo& info, size_t i, const char* what, size_t minLength);

/** Int32Array argument `i` with at least `minLength` elements. */
const int32_t* intsArg(const Napi::CallbackInfo& info, size_t i, const char* what, size_t minLength);

/** Integer argument `i`; throws a JS TypeError naming `what` otherwise. */
int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* what);

/** Double argument `i`; throws a JS TypeError naming `what` otherwise. */
double numArg(const Napi::CallbackInfo& info, size_t i, const char* what);

/** Object argument `i` (a plain JS object whose fields are read by name). */
Napi::Object objectArg(const Napi::CallbackInfo& info, size_t i, const char* what);

/** Integer field `name` of `o`; throws a JS TypeError naming `what` and the field otherwise. */
int64_t intField(const Napi::Object& o, const char* what, const char* name);

/** Number field `name` of `o`. */
double numField(const Napi::Object& o, const char* what, const char* name);

/** Boolean field `name` of `o`. */
bool boolField(const Napi::Object& o, const char* what, const char* name);

/** Number argument `i`, or `fallback` when it is absent or undefined. */
double optNumArg(const Napi::CallbackInfo& info, size_t i, const char* what, double fallback);

/** Boolean argument `i`. */
bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* what);

/** Throws a JS Error `op: message` (used for conditions the TypeScript side should have caught). */
[[noreturn]] void fail(const char* op, const std::string& message);

/** Wraps a kernel body so that C++ and oneDNN exceptions become JS errors naming the op. */
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, F body) {
  try {
    body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": oneDNN error: " + e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": " + e.what());
  }
  return info.Env().Undefined();
}

// Registration hooks, one per kernel family.
void registerConv(Napi::Env env, Napi::Object exports);
void registerMatmul(Napi::Env env, Napi::Object exports);
void registerBatchNorm(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerEltwise(Napi::Env env, Napi::Object exports);
void registerSgdUpdate(Napi::Env env, Napi::Object exports);
void registerReduce(Napi::Env env, Napi::Object exports);
void registerLayout(Napi::Env env, Napi::Object exports);
void registerLocalAttention(Napi::Env env, Napi::Object exports);
void registerStemAttention(Napi::Env env, Napi::Object exports);
void registerFocalLoss(Napi::Env env, Napi::Object exports);

}  // namespace sasa
