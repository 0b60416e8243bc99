// Batch normalisation of channels-last data viewed as [N, S, C] (S = H·W, 1 for dense data),
// statistics over N and S: training forward (batch statistics) and backward via oneDNN, and the
// inference transform y = (x - mean) · gamma / sqrt(var + eps) + beta as a plain loop.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace sasa {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;
using flags = dnnl::normalization_flags;

struct BnEntry {
  dnnl::batch_normalization_forward::primitive_desc fwdPd;
  std::unique_ptr<dnnl::batch_normalization_forward> fwd;
  std::unique_ptr<dnnl::batch_normalization_backward> bwd;
};

/** [N, S, C] as oneDNN's 4-D nhwc (2-D `nc` data would get its slow ncsp implementation). */
memory::desc dataDesc(int64_t n, int64_t s, int64_t c) { return {{n, c, s, 1}, dt::f32, tag::nhwc}; }

BnEntry& entryFor(int64_t n, int64_t s, int64_t c, float eps) {
  static std::unordered_map<std::string, std::unique_ptr<BnEntry>> entries;
  uint32_t epsBits;
  std::memcpy(&epsBits, &eps, sizeof eps);
  std::string key = std::to_string(n) + "," + std::to_string(s) + "," + std::to_string(c) + "," +
                    std::to_string(epsBits);
  auto it = entries.find(key);
  if (it != entries.end()) return *it->second;
  auto e = std::make_unique<BnEntry>();
  memory::desc data = dataDesc(n, s, c);
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_training, data, eps,
                                            flags::use_scale | flags::use_shift);
  e->fwdPd = dnnl::batch_normalization_forward::primitive_desc(d, cpuEngine());
  e->fwd = std::make_unique<dnnl::batch_normalization_forward>(e->fwdPd);
  dnnl::batch_normalization_backward::desc bd(dnnl::prop_kind::backward, data, data, eps,
                                              flags::use_scale | flags::use_shift);
  dnnl::batch_normalization_backward::primitive_desc bpd(bd, cpuEngine(), e->fwdPd);
  e->bwd = std::make_unique<dnnl::batch_normalization_backward>(bpd);
  auto* raw = e.get();
  entries.emplace(key, std::move(e));
  return *raw;
}

memory wrap(int64_t n, int64_t s, int64_t c, float* data) {
  return memory(dataDesc(n, s, c), cpuEngine(), data);
}
memory wrapVec(int64_t c, float* data) { return memory({{c}, dt::f32, tag::a}, cpuEngine(), data); }

/** bnTrainForward(x, gamma, beta, y, mean, variance, [N, S, C], eps). */
Napi::Value BnTrainForward(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchNormTrain", [&] {
    const int32_t* p = intsArg(info, 6, "geometry", 3);
    const int64_t n = p[0], s = p[1], c = p[2], rows = n * s;
    if (n < 1 || s < 1 || c < 1) fail("batchNorm", "N, S and C must be >= 1");
    const float eps = static_cast<float>(numArg(info, 7, "epsilon"));
    float* x = floatArg(info, 0, "x", rows * c);
    float* gamma = floatArg(info, 1, "gamma", c);
    float* beta = floatArg(info, 2, "beta", c);
    float* y = floatArg(info, 3, "y", rows * c);
    float* mean = floatArg(info, 4, "mean", c);
    float* var = floatArg(info, 5, "variance", c);
    BnEntry& e = entryFor(n, s, c, eps);
    e.fwd->execute(cpuStream(), {{DNNL_ARG_SRC, wrap(n, s, c, x)},
                                 {DNNL_ARG_SCALE, wrapVec(c, gamma)},
                                 {DNNL_ARG_SHIFT, wrapVec(c, beta)},
                                 {DNNL_ARG_DST, wrap(n, s, c, y)},
                                 {DNNL_ARG_MEAN, wrapVec(c, mean)},
                                 {DNNL_ARG_VARIANCE, wrapVec(c, var)}});
    cpuStream().wait();
  });
}

/** bnBackward(x, dy, mean, variance, gamma, beta, dx, dgamma, dbeta, [N, S, C], eps). */
Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchNormTrainGrad", [&] {
    const int32_t* p = intsArg(info, 9, "geometry", 3);
    const int64_t n = p[0], s = p[1], c = p[2], rows = n * s;
    if (n < 1 || s < 1 || c < 1) fail("batchNorm", "N, S and C must be >= 1");
    const float eps = static_cast<float>(numArg(info, 10, "epsilon"));
    float* x = floatArg(info, 0, "x", rows * c);
    float* dy = floatArg(info, 1, "dy", rows * c);
    float* mean = floatArg(info, 2, "mean", c);
    float* var = floatArg(info, 3, "variance", c);
    float* gamma = floatArg(info, 4, "gamma", c);
    float* beta = floatArg(info, 5, "beta", c);
    float* dx = floatArg(info, 6, "dx", rows * c);
    float* dgamma = floatArg(info, 7, "dgamma", c);
    float* dbeta = floatArg(info, 8, "dbeta", c);
    BnEntry& e = entryFor(n, s, c, eps);
    // DNNL_ARG_SHIFT is not read by backward but oneDNN 2.6 refuses to run without it.
    e.bwd->execute(cpuStream(), {{DNNL_ARG_SRC, wrap(n, s, c, x)},
                                 {DNNL_ARG_DIFF_DST, wrap(n, s, c, dy)},
                                 {DNNL_ARG_MEAN, wrapVec(c, mean)},
                                 {DNNL_ARG_VARIANCE, wrapVec(c, var)},
                                 {DNNL_ARG_SCALE, wrapVec(c, gamma)},
                                 {DNNL_ARG_SHIFT, wrapVec(c, beta)},
                                 {DNNL_ARG_DIFF_SRC, wrap(n, s, c, dx)},
                                 {DNNL_ARG_DIFF_SCALE, wrapVec(c, dgamma)},
                                 {DNNL_ARG_DIFF_SHIFT, wrapVec(c, dbeta)}});
    cpuStream().wait();
  });
}

/**
 * bnInference(x, mean, variance, gamma | null, beta | null, y, [rows, C], eps):
 * y = (x - mean) · gamma / sqrt(variance + eps) + beta, per channel.
 */
Napi::Value BnInference(const Napi::CallbackInfo& info) {
  return guarded(info, "FusedBatchNorm", [&] {
    const int32_t* p = intsArg(info, 6, "geometry", 2);
    const int64_t rows = p[0], c = p[1];
    const float eps = static_cast<float>(numArg(info, 7, "epsilon"));
    const float* x = floatArg(info, 0, "x", rows * c);
    const float* mean = floatArg(info, 1, "mean", c);
    const float* var = floatArg(info, 2, "variance", c);
    const float* gamma = info[3].IsNull() ? nullptr : floatArg(info, 3, "scale", c);
    const float* beta = info[4].IsNull() ? nullptr : floatArg(info, 4, "offset", c);
    float* y = floatArg(info, 5, "y", rows * c);
    std::vector<float> a(c), b(c);
    for (int64_t j = 0; j < c; ++j) {
      a[j] = (gamma ? gamma[j] : 1.0f) / std::sqrt(var[j] + eps);
      b[j] = (beta ? beta[j] : 0.0f) - mean[j] * a[j];
    }
    const float* pa = a.data();
    const float* pb = b.data();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) yr[j] = xr[j] * pa[j] + pb[j];
    }
  });
}

}  // namespace

void registerBatchNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("bnTrainForward", Napi::Function::New(env, BnTrainForward));
  exports.Set("bnBackward", Napi::Function::New(env, BnBackward));
  exports.Set("bnInference", Napi::Function::New(env, BnInference));
}

}  // namespace sasa
