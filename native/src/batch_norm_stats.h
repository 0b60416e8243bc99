// The batch norm's shared arithmetic: per-channel sums in fixed chunks (the same bits at any thread
// count), the statistics and affine map from them, and the backward's per-channel coefficients. Used
// by the batch norm kernels (batch_norm.cc) and the attention stem's fused batch norm + block max
// (attention_stem.cc), which must compute the same numbers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sasa {
namespace bn {

/** The ReLU's gradient gate: d where y > 0, NaN where y is NaN (as tfjs's dy · step(y)), else 0. */
inline float reluGate(float y, float d) { return y > 0.0f ? d : y != y ? y : 0.0f; }

/**
 * Rows per partial sum of the reductions. Fixed (not per thread), and the partial sums are added in
 * row order, so the statistics and gradients are the same bits at any thread count.
 */
constexpr int64_t kChunkRows = 64;

/** The per-chunk partial sums channelSums adds: [chunks][2][C] (Σ(a − sa), then Σ(a − sa)·(b − sb)). */
using ChunkSums = std::vector<double>;

/**
 * Chunk k's slot of channelSums (rows [k·kChunkRows, end)): float32 sums into p1, p2 [C] (scratch), then
 * into d [2·C] as float64. rowFn, sa, sb and the gate as channelSums takes them.
 */
template <typename Rows>
inline void chunkSums(int64_t k, int64_t end, int64_t c, Rows rowFn, const float* sa, const float* sb, float* p1,
                      float* p2, double* d, const float* ma = nullptr, const float* mb = nullptr,
                      const float* mk = nullptr) {
  std::fill(p1, p1 + c, 0.0f);
  std::fill(p2, p2 + c, 0.0f);
  for (int64_t r = k * kChunkRows; r < end; ++r) {
    const float* a;
    const float* b;
    rowFn(r, a, b);
    if (ma) {
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) {
        const float u = reluGate((b[j] - mk[j]) * ma[j] + mb[j], a[j] - sa[j]);
        p1[j] += u;
        p2[j] += u * (b[j] - sb[j]);
      }
      continue;
    }
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) {
      const float u = a[j] - sa[j];
      p1[j] += u;
      p2[j] += u * (b[j] - sb[j]);
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    d[j] = p1[j];
    d[c + j] = p2[j];
  }
}

/** s1, s2 [C]: the chunks' partial sums ([chunks][2][C]) added in chunk order. */
inline void addChunks(const ChunkSums& partial, int64_t c, std::vector<double>& s1, std::vector<double>& s2) {
  s1.assign(c, 0.0);
  s2.assign(c, 0.0);
  const int64_t chunks = static_cast<int64_t>(partial.size()) / (2 * c);
  for (int64_t k = 0; k < chunks; ++k) {
    const double* d = partial.data() + k * 2 * c;
    for (int64_t j = 0; j < c; ++j) {
      s1[j] += d[j];
      s2[j] += d[c + j];
    }
  }
}

/**
 * Per-channel shifted sums over the rows of [rows, C] data: s1[j] = Σ(a − sa[j]),
 * s2[j] = Σ(a − sa[j])·(b − sb[j]); `rowFn(r, a, b)` gives row r's a and b. With a gate (ma, mb, mk),
 * a counts only where (b − mk)·ma + mb > 0 (the ReLU after a batch norm: a = dy, b = x). Each chunk of
 * kChunkRows rows sums in float32 (short sums of shifted, so small, values), into its own float64
 * slot; the slots are then added in order.
 */
template <typename Rows>
inline void channelSums(int64_t rows, int64_t c, Rows rowFn, const float* sa, const float* sb, std::vector<double>& s1,
                        std::vector<double>& s2, const float* ma = nullptr, const float* mb = nullptr,
                        const float* mk = nullptr) {
  const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
  ChunkSums partial(static_cast<size_t>(chunks) * 2 * c);
#pragma omp parallel
  {
    std::vector<float> f1(c), f2(c);
#pragma omp for schedule(static)
    for (int64_t k = 0; k < chunks; ++k) {
      const int64_t end = std::min(rows, (k + 1) * kChunkRows);
      chunkSums(k, end, c, rowFn, sa, sb, f1.data(), f2.data(), partial.data() + k * 2 * c, ma, mb, mk);
    }
  }
  addChunks(partial, c, s1, s2);
}

/** Whether channel j's affine map x·a + b is finite: if not, it may give ∞ − ∞ where (x − m)·a + β does not. */
inline bool finiteMap(float a, float b) { return std::isfinite(a) && std::isfinite(b); }

/**
 * From the shifted sums s1 = Σ(x − K), s2 = Σ(x − K)² over `rows` rows (K [C]: the shift): the mean, the
 * biased variance, and the normalisation's affine map y = x·a + b.
 */
inline void statsFromSums(const std::vector<double>& s1, const std::vector<double>& s2, const float* K, int64_t rows,
                          const float* gamma, const float* beta, float eps, float* mean, float* var,
                          std::vector<float>& a, std::vector<float>& b) {
  const size_t c = s1.size();
  a.resize(c);
  b.resize(c);
  for (size_t j = 0; j < c; ++j) {
    const double dm = s1[j] / static_cast<double>(rows);  // mean − K
    const double m = K[j] + dm;
    const double raw = s2[j] / static_cast<double>(rows) - dm * dm;
    const double v = raw < 0.0 ? 0.0 : raw;  // rounding can make it negative; NaN stays NaN
    mean[j] = static_cast<float>(m);
    var[j] = static_cast<float>(v);
    const double scale = gamma[j] / std::sqrt(v + eps);
    a[j] = static_cast<float>(scale);
    b[j] = static_cast<float>(beta[j] - m * scale);
  }
}

/**
 * From the sums Σdy and Σdy·(x − mean) over M rows: dbeta = Σdy, dgamma = Σdy·x̂, and dx = dy·k1 +
 * x·k2 + k3 per channel (k1 = gamma/σ, the rest folds −dbeta/M − x̂·dgamma/M).
 */
inline void backwardCoefficients(const std::vector<double>& sumDy, const std::vector<double>& sumDyXc, const float* mean,
                          const float* var, const float* gamma, float eps, int64_t rows, float* dgamma, float* dbeta,
                          std::vector<float>& k1, std::vector<float>& k2, std::vector<float>& k3) {
  const size_t c = sumDy.size();
  k1.resize(c);
  k2.resize(c);
  k3.resize(c);
  for (size_t j = 0; j < c; ++j) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    const double g = gamma[j] * inv;
    const double dg = sumDyXc[j] * inv;  // Σdy·x̂
    dbeta[j] = static_cast<float>(sumDy[j]);
    dgamma[j] = static_cast<float>(dg);
    const double c2 = -g * inv * dg / static_cast<double>(rows);
    k1[j] = static_cast<float>(g);
    k2[j] = static_cast<float>(c2);
    k3[j] = static_cast<float>(-g * sumDy[j] / static_cast<double>(rows) - mean[j] * c2);
  }
}

/**
 * dgamma, dbeta and dx's coefficients k1, k2, k3 (backwardCoefficients) of a batch norm over `rows` rows with
 * statistics mean, var [C], from the sums Σdy and Σdy·(x − mean) over dy [dyRows, C], xAtDy [dyRows, C] the x
 * each dy row meets (dyRows < rows where dy reaches only some rows, as a block max's); with a gate (ga, gb, gk:
 * channelSums), dy counts only where the ReLU passed it.
 */
inline void gradientCoefficients(const float* dy, const float* xAtDy, int64_t dyRows, int64_t c, const float* mean,
                                 const float* var, const float* gamma, float eps, int64_t rows, float* dgamma,
                                 float* dbeta, std::vector<float>& k1, std::vector<float>& k2, std::vector<float>& k3,
                                 const float* ga = nullptr, const float* gb = nullptr, const float* gk = nullptr) {
  std::vector<double> sumDy, sumDyXc;
  const std::vector<float> zeros(c, 0.0f);
  channelSums(
      dyRows, c,
      [&](int64_t r, const float*& a, const float*& b) {
        a = dy + r * c;
        b = xAtDy + r * c;
      },
      zeros.data(), mean, sumDy, sumDyXc, ga, gb, gk);
  backwardCoefficients(sumDy, sumDyXc, mean, var, gamma, eps, rows, dgamma, dbeta, k1, k2, k3);
}

/**
 * Where channel j's folded map x·a + b is not finite, switches it to (x − mean)·a + beta, as affine does:
 * b[j] = beta[j], and the returned shift [C] is mean[j] there and 0 elsewhere ((x − 0)·a + b is x·a + b
 * exactly).
 */
inline std::vector<float> unfoldNonFinite(const std::vector<float>& a, std::vector<float>& b, const float* mean,
                                   const float* beta) {
  std::vector<float> shift(a.size(), 0.0f);
  for (size_t j = 0; j < a.size(); ++j) {
    if (finiteMap(a[j], b[j])) continue;
    b[j] = beta[j];
    shift[j] = mean[j];
  }
  return shift;
}

}  // namespace bn
}  // namespace sasa
