// RetinaNet's weighted sigmoid focal loss and its gradient in one pass (src/tasks/detection/focal_loss.ts,
// weightedFocalLoss): on [1, ~50k anchors, 80-91 classes] the JS loop's exp and log1p per element took
// 50-80 ms of a ~0.8 s training step; here the rows are split over the OpenMP threads.
#include <cmath>

#include "common.h"

namespace sasa {
namespace {

/**
 * focalLossRows(logits, classes, weights, slopes, rows, k, alpha, gamma) → Σ_r w_r Σ_j FL(x_rj, [j = c_r]),
 * logits and slopes [rows, k], classes [rows] (-1: no class), weights [rows]; rows of weight 0 are skipped
 * (their slopes are left as they are: zero in a fresh array). In float64, with z = (1 − 2t)·x, σ = σ(z):
 *   FL = α_t σ^γ softplus(z),  dFL/dx · w = w (1 − 2t) α_t σ^γ (γ (1 − σ) softplus(z) + σ)  → slopes,
 * α_t = α for t = 1, 1 − α for t = 0 (alpha < 0: 1).
 */
Napi::Value FocalLossRows(const Napi::CallbackInfo& info) {
  double total = 0;
  guarded(info, "FocalLossRows", [&] {
    const int64_t rows = intArg(info, 4, "rows");
    const int64_t k = intArg(info, 5, "k");
    const double alpha = numArg(info, 6, "alpha");
    const double gamma = numArg(info, 7, "gamma");
    if (rows < 0 || k < 1) fail("FocalLossRows", "rows must be >= 0 and k >= 1");
    const float* x = floatArg(info, 0, "logits", rows * k);
    const int32_t* classes = intsArg(info, 1, "classes", rows);
    const float* weights = floatArg(info, 2, "weights", rows);
    float* slopes = floatArg(info, 3, "slopes", rows * k);
    const double alphaOn = alpha < 0 ? 1.0 : alpha, alphaOff = alpha < 0 ? 1.0 : 1.0 - alpha;
    double sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (rows * k > 65536)
    for (int64_t r = 0; r < rows; ++r) {
      const double w = weights[r];
      if (w == 0) continue;
      double rowSum = 0;
      for (int64_t j = 0; j < k; ++j) {
        const bool on = classes[r] == j;
        const double sign = on ? -1.0 : 1.0, alphaT = on ? alphaOn : alphaOff;
        const double z = sign * x[r * k + j];
        const double e = std::exp(-std::fabs(z));
        const double softplus = std::fmax(z, 0.0) + std::log1p(e);
        const double inv = 1.0 / (1.0 + e);
        const double sigmoid = z >= 0 ? inv : e * inv, oneMinus = z >= 0 ? e * inv : inv;
        const double modulation = gamma == 2 ? sigmoid * sigmoid : gamma == 0 ? 1.0 : std::pow(sigmoid, gamma);
        slopes[r * k + j] =
            static_cast<float>(w * sign * alphaT * modulation * (gamma * oneMinus * softplus + sigmoid));
        rowSum += alphaT * modulation * softplus;
      }
      sum += w * rowSum;
    }
    total = sum;
  });
  return Napi::Number::New(info.Env(), total);
}

}  // namespace

void registerFocalLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("focalLossRows", Napi::Function::New(env, FocalLossRows));
}

}  // namespace sasa
