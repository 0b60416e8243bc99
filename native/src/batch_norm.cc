// Batch normalisation of channels-last data viewed as [N, S, C] (S = H·W, 1 for dense data),
// statistics over N and S: training forward (batch statistics) and backward, and the inference
// transform y = (x - mean) · gamma / sqrt(var + eps) + beta, as plain memory-bound loops.
#include <algorithm>
#include <cmath>
#include <vector>

#include "batch_norm_stats.h"
#include "common.h"

namespace sasa {
namespace {

using namespace bn;

/** max(0, v), but NaN for NaN (like tfjs's relu; std::max(0, NaN) is 0). */
inline float reluKeepNaN(float v) { return v < 0.0f ? 0.0f : v; }

/**
 * y = x · a + b per channel over [rows, C], then max(0, y) when `relu`. Channels whose a or b is not
 * finite (gamma or beta ±∞ or NaN, or a scale that overflows float32) use the unfolded form
 * y = (x − m)·a + β instead, as tfjs computes it: x·∞ + (β − m·∞) is ∞ − ∞ = NaN where (x − m)·∞ is ±∞
 * (then 0 or ∞ after the ReLU). Finite channels are untouched, bit for bit.
 */
void affine(const float* x, const float* a, const float* b, float* y, int64_t rows, int64_t c, bool relu,
            const float* m, const float* beta) {
  bool allFinite = true;
  for (int64_t j = 0; j < c; ++j) allFinite = allFinite && finiteMap(a[j], b[j]);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    if (relu) {
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) yr[j] = reluKeepNaN(xr[j] * a[j] + b[j]);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) yr[j] = xr[j] * a[j] + b[j];
    }
    for (int64_t j = 0; j < c && !allFinite; ++j) {
      if (finiteMap(a[j], b[j])) continue;
      const float v = (xr[j] - m[j]) * a[j] + beta[j];
      yr[j] = relu ? reluKeepNaN(v) : v;
    }
  }
}

/** The geometry [N, S, C] (rows = N·S) and epsilon of the training kernels. */
struct Rows {
  int64_t n, s, c, rows;
  float eps;
};

/** Reads and checks the geometry argument [N, S, C] at `i` and epsilon at `i + 1`. */
Rows rowsArg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  const int32_t* p = intsArg(info, i, "geometry", 3);
  const Rows r{p[0], p[1], p[2], static_cast<int64_t>(p[0]) * p[1], static_cast<float>(numArg(info, i + 1, "epsilon"))};
  if (r.n < 1 || r.s < 1 || r.c < 1) fail(op, "N, S and C must be >= 1");
  return r;
}

/** Optional boolean argument i (absent or undefined: false). */
bool optBool(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && !info[i].IsUndefined() && info[i].ToBoolean().Value();
}

/**
 * Batch statistics of x [rows, C] (mean, biased variance, shifted by K = the first row: s1 =
 * Σ(x − K), s2 = Σ(x − K)²) into mean and var, and the affine map of the normalisation, y = x·a + b.
 */
void batchStats(const float* x, int64_t rows, int64_t c, const float* gamma, const float* beta, float eps,
                float* mean, float* var, std::vector<float>& a, std::vector<float>& b) {
  std::vector<double> s1, s2;
  channelSums(
      rows, c,
      [&](int64_t r, const float*& u, const float*& w) {
        u = x + r * c;
        w = u;
      },
      x, x, s1, s2);
  statsFromSums(s1, s2, x, rows, gamma, beta, eps, mean, var, a, b);
}

/**
 * The training forward's arguments x [rows, C], gamma, beta [C] (0–2) and the outputs mean and variance [C]
 * (`statsAt`, `statsAt + 1`), with x's batch statistics written and the normalisation's map y = x·a + b.
 */
struct Normalisation {
  const float* x;
  const float* beta;
  float* mean;
  std::vector<float> a, b;

  Normalisation(const Napi::CallbackInfo& info, const Rows& g, size_t statsAt)
      : x(floatArg(info, 0, "x", g.rows * g.c)),
        beta(floatArg(info, 2, "beta", g.c)),
        mean(floatArg(info, statsAt, "mean", g.c)) {
    const float* gamma = floatArg(info, 1, "gamma", g.c);
    float* var = floatArg(info, statsAt + 1, "variance", g.c);
    batchStats(x, g.rows, g.c, gamma, beta, g.eps, mean, var, a, b);
  }
};

/**
 * The training backward's arguments: x [rows, C] (0), dy [dyRows, C] (1), mean, variance, gamma [C]
 * (`statsAt` to `statsAt + 2`), and the outputs dx [rows, C], dgamma, dbeta [C] (6–8).
 */
struct Gradients {
  const float* x;
  const float* dy;
  const float* mean;
  const float* var;
  const float* gamma;
  float* dx;
  float* dgamma;
  float* dbeta;

  Gradients(const Napi::CallbackInfo& info, const Rows& g, int64_t dyRows, size_t statsAt)
      : x(floatArg(info, 0, "x", g.rows * g.c)),
        dy(floatArg(info, 1, "dy", dyRows * g.c)),
        mean(floatArg(info, statsAt, "mean", g.c)),
        var(floatArg(info, statsAt + 1, "variance", g.c)),
        gamma(floatArg(info, statsAt + 2, "gamma", g.c)),
        dx(floatArg(info, 6, "dx", g.rows * g.c)),
        dgamma(floatArg(info, 7, "dgamma", g.c)),
        dbeta(floatArg(info, 8, "dbeta", g.c)) {}

  /** gradientCoefficients over dy's `dyRows` rows, `xAtDy` [dyRows, C] the x each dy row meets. */
  void coefficients(const Rows& g, int64_t dyRows, const float* xAtDy, std::vector<float>& k1,
                    std::vector<float>& k2, std::vector<float>& k3, const float* ga = nullptr,
                    const float* gb = nullptr, const float* gk = nullptr) const {
    gradientCoefficients(dy, xAtDy, dyRows, g.c, mean, var, gamma, g.eps, g.rows, dgamma, dbeta, k1, k2, k3, ga, gb,
                         gk);
  }
};

/**
 * bnTrainForward(x, gamma, beta, y, mean, variance, [N, S, C], eps[, relu]): batch statistics over
 * N·S rows (variance biased) and y = (x − mean)·gamma/√(variance + eps) + beta, then max(0, y) with
 * relu (one pass instead of two, and no second tensor). Two passes over x: one for
 * Σ(x − K) and Σ(x − K)², K = the first row (so a large mean does not cancel the variance away),
 * one for y. (oneDNN 2.6's nhwc batch norm took 1.5–2× longer for C ≥ 256: bench/batch_norm_kernels.ts,
 * BENCHMARKS.md.)
 */
Napi::Value BnTrainForward(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchNormTrain", [&] {
    const Rows g = rowsArg(info, 6, "batchNorm");
    float* y = floatArg(info, 3, "y", g.rows * g.c);
    const Normalisation nm(info, g, 4);
    affine(nm.x, nm.a.data(), nm.b.data(), y, g.rows, g.c, optBool(info, 8), nm.mean, nm.beta);
  });
}

/**
 * bnBlockMaxForward(x, gamma, beta, y, argmax, mean, variance, [N, S, C], eps): the batch norm of
 * x [N, S, C] (statistics over all N·S rows) followed by the max over each sample's S rows, without
 * the normalised [N, S, C] tensor: y [N, C] = max_s (x[n][s]·a + b), argmax [N, C] the first s
 * that attains it (as tfjs's max pool picks).
 */
Napi::Value BnBlockMaxForward(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchNormBlockMax", [&] {
    const Rows g = rowsArg(info, 7, "batchNormBlockMax");
    const int64_t n = g.n, s = g.s, c = g.c;
    float* y = floatArg(info, 3, "y", n * c);
    int32_t* argmax = const_cast<int32_t*>(intsArg(info, 4, "argmax", n * c));  // an output
    Normalisation nm(info, g, 5);
    const std::vector<float> shifted = unfoldNonFinite(nm.a, nm.b, nm.mean, nm.beta);
    const float* x = nm.x;
    const float* pa = nm.a.data();
    const float* pb = nm.b.data();
    const float* pk = shifted.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float* xs = x + i * s * c;
      float* yi = y + i * c;
      int32_t* ai = argmax + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) {
        yi[j] = (xs[j] - pk[j]) * pa[j] + pb[j];
        ai[j] = 0;
      }
      for (int64_t r = 1; r < s; ++r) {
        const float* xr = xs + r * c;
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
          const float v = (xr[j] - pk[j]) * pa[j] + pb[j];
          const bool more = v > yi[j];
          yi[j] = more ? v : yi[j];
          ai[j] = more ? static_cast<int32_t>(r) : ai[j];
        }
      }
    }
  });
}

/**
 * bnBackward(x, dy, mean, variance, gamma, beta, dx, dgamma, dbeta, [N, S, C], eps[, relu]): with
 * x̂ = (x − mean)/σ, σ = √(variance + eps), M = N·S: dbeta = Σdy, dgamma = Σdy·x̂,
 * dx = gamma/σ · (dy − dbeta/M − x̂·dgamma/M). Two passes: the sums, then dx. With relu (the
 * forward applied max(0, ·)), dy counts only where x̂·gamma + beta > 0, recomputed from x.
 */
Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchNormTrainGrad", [&] {
    const Rows g = rowsArg(info, 9, "batchNorm");
    const int64_t c = g.c, rows = g.rows;
    const Gradients gr(info, g, rows, 2);
    // beta: read only with relu (without, the gradient does not depend on it)
    const float* beta = floatArg(info, 5, "beta", c);
    const bool relu = optBool(info, 11);
    // The ReLU's gate per channel: y > 0 ⟺ (x − gk)·ga + gb > 0 (the forward's affine map, unfolded where
    // it is not finite).
    std::vector<float> ga(c), gb(c);
    for (int64_t j = 0; j < c; ++j) {
      const double scale = gr.gamma[j] / std::sqrt(static_cast<double>(gr.var[j]) + g.eps);
      ga[j] = static_cast<float>(scale);
      gb[j] = static_cast<float>(beta[j] - gr.mean[j] * scale);
    }
    const std::vector<float> gk = unfoldNonFinite(ga, gb, gr.mean, beta);
    // dx = dy·k1 + x·k2 + k3 per channel (dy gated with relu).
    std::vector<float> k1, k2, k3;
    gr.coefficients(g, rows, gr.x, k1, k2, k3, relu ? ga.data() : nullptr, relu ? gb.data() : nullptr, gk.data());
    const float* x = gr.x;
    const float* dy = gr.dy;
    float* dx = gr.dx;
    const float* p1 = k1.data();
    const float* p2 = k2.data();
    const float* p3 = k3.data();
    const float* pa = ga.data();
    const float* pb = gb.data();
    const float* pk = gk.data();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      const float* dyr = dy + r * c;
      float* dxr = dx + r * c;
      if (relu) {
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
          const float gate = reluGate((xr[j] - pk[j]) * pa[j] + pb[j], dyr[j]);
          dxr[j] = gate * p1[j] + xr[j] * p2[j] + p3[j];
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) dxr[j] = dyr[j] * p1[j] + xr[j] * p2[j] + p3[j];
      }
    }
  });
}

/**
 * bnBlockMaxBackward(x, dy, argmax, mean, variance, gamma, dx, dgamma, dbeta, [N, S, C], eps): the
 * gradient of bnBlockMaxForward's y for dy [N, C]: the normalised tensor's gradient is dy at each
 * argmax and 0 elsewhere, so the sums Σdy and Σdy·(x − mean) run over the N·C maxima only, and dx is
 * one pass over x: dx = [s = argmax]·dy·gamma/σ + x·k2 + k3.
 */
Napi::Value BnBlockMaxBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchNormBlockMaxGrad", [&] {
    const Rows g = rowsArg(info, 9, "batchNormBlockMax");
    const int64_t n = g.n, s = g.s, c = g.c;
    const Gradients gr(info, g, n, 3);
    const int32_t* argmax = intsArg(info, 2, "argmax", n * c);
    for (int64_t e = 0; e < n * c; ++e) {
      if (argmax[e] < 0 || argmax[e] >= s) fail("batchNormBlockMax", "argmax out of range");
    }
    const float* x = gr.x;
    const float* dy = gr.dy;
    float* dx = gr.dx;
    // x at the maxima, [N, C], for the sums.
    std::vector<float> xm(static_cast<size_t>(n * c));
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < c; ++j) xm[i * c + j] = x[(i * s + argmax[i * c + j]) * c + j];
    }
    std::vector<float> k1, k2, k3;
    gr.coefficients(g, n, xm.data(), k1, k2, k3);
    const float* p1 = k1.data();
    const float* p2 = k2.data();
    const float* p3 = k3.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float* dyi = dy + i * c;
      const int32_t* ai = argmax + i * c;
      for (int64_t r = 0; r < s; ++r) {
        const float* xr = x + (i * s + r) * c;
        float* dxr = dx + (i * s + r) * c;
#pragma omp simd
        for (int64_t j = 0; j < c; ++j) {
          const float gate = ai[j] == r ? dyi[j] : 0.0f;
          dxr[j] = gate * p1[j] + xr[j] * p2[j] + p3[j];
        }
      }
    }
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
    std::vector<float> a(c), b(c), shift(c);
    for (int64_t j = 0; j < c; ++j) {
      a[j] = (gamma ? gamma[j] : 1.0f) / std::sqrt(var[j] + eps);
      shift[j] = beta ? beta[j] : 0.0f;
      b[j] = shift[j] - mean[j] * a[j];
    }
    affine(x, a.data(), b.data(), y, rows, c, false, mean, shift.data());
  });
}

}  // namespace

void registerBatchNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("bnTrainForward", Napi::Function::New(env, BnTrainForward));
  exports.Set("bnBackward", Napi::Function::New(env, BnBackward));
  exports.Set("bnInference", Napi::Function::New(env, BnInference));
  exports.Set("bnBlockMaxForward", Napi::Function::New(env, BnBlockMaxForward));
  exports.Set("bnBlockMaxBackward", Napi::Function::New(env, BnBlockMaxBackward));
}

}  // namespace sasa
