// The fused SGD-with-momentum step of one weight (src/ops/sgd_update.ts): reads w, v, g once and
// writes w', v', instead of the 5-8 elementwise passes the formula takes in tfjs ops.
#include "common.h"

namespace sasa {
namespace {

/**
 * sgdUpdate(w, v, g, wOut, vOut, n, lr, momentum, weightDecay, nesterov): one SGD-with-momentum
 * step, g' = g + wd·w (g when wd = 0), v' = μ·v + g', w' = w − lr·(nesterov ? g' + μ·v' : v').
 */
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, "SgdUpdate", [&] {
    const int64_t n = intArg(info, 5, "n");
    const float lr = static_cast<float>(numArg(info, 6, "lr"));
    const float mu = static_cast<float>(numArg(info, 7, "momentum"));
    const float wd = static_cast<float>(numArg(info, 8, "weightDecay"));
    const bool nesterov = intArg(info, 9, "nesterov") != 0;
    const float* w = floatArg(info, 0, "w", n);
    const float* v = floatArg(info, 1, "v", n);
    const float* g = floatArg(info, 2, "g", n);
    float* wOut = floatArg(info, 3, "wOut", n);
    float* vOut = floatArg(info, 4, "vOut", n);
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      // without weight decay w takes no part (0·∞ would make g' NaN), as in the op's tfjs kernel
      const float g1 = wd != 0.0f ? g[i] + wd * w[i] : g[i];
      const float v1 = mu * v[i] + g1;
      vOut[i] = v1;
      wOut[i] = w[i] - lr * (nesterov ? g1 + mu * v1 : v1);
    }
  });
}

}  // namespace

void registerSgdUpdate(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
}

}  // namespace sasa
