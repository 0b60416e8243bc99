// Fused local self-attention (SASA.md §1), forward and backward, never materialising the k×k
// neighbourhood. Inputs arrive channels-last [B, H, W, C]; the kernels first lay q, k, v (and dy)
// out channel-major per image, [C][H][W], with k and v zero-padded by h = k/2 on every side, so
// every inner loop runs over a contiguous row of pixels and vectorises, and 'zeros' padding
// needs no tests. Work is split over (image, head) pairs: a head's channels of dk and dv are
// written by one task only, so the backward scatter needs no atomics.
//
// Per query pixel (i, j) and head n, window offsets (da, db) ∈ [0, k)², (a, b) = (i+da-h, j+db-h):
//   L[da,db] = q̂·k_ab + q̂_row·relRow[da] + q̂_col·relCol[db],  q̂ = scale·q (head's channels)
//   p = softmax(L), y = Σ p v_ab, lse = log Σ exp L
// Backward keeps only lse between the passes: p is recomputed from the logits.
#include <omp.h>
#include <xmmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace sasa {
namespace {

struct Geometry {
  int64_t B, H, W, C, K, N, h, D, half, Hp, Wp;
  bool masked, useQK, useQR;
  float scale;

  static Geometry from(const int32_t* p, double scale) {
    Geometry g{};
    g.B = p[0], g.H = p[1], g.W = p[2], g.C = p[3], g.K = p[4], g.N = p[5];
    g.masked = p[6] != 0, g.useQK = p[7] != 0, g.useQR = p[8] != 0;
    if (g.B < 1 || g.H < 1 || g.W < 1 || g.C < 1 || g.K < 1 || g.K % 2 == 0 || g.N < 1 ||
        g.C % g.N != 0 || (g.useQR && g.C % 2 != 0)) {
      fail("localAttention2d", "invalid geometry");
    }
    g.h = g.K / 2, g.D = g.C / g.N, g.half = g.C / 2;
    g.Hp = g.H + 2 * g.h, g.Wp = g.W + 2 * g.h;
    g.scale = static_cast<float>(scale);
    return g;
  }
  int64_t size() const { return B * H * W * C; }
  int64_t plane() const { return H * W; }
  int64_t paddedPlane() const { return Hp * Wp; }
};

/**
 * Flushes denormals to zero on this thread while alive (restoring the caller's mode after):
 * softmax weights near e^-87 times values would otherwise make denormal products, which run
 * ~100x slower.
 */
class FlushDenormals {
 public:
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(saved_); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_;
};

/** exp(x) for x <= 0 to ~1 ulp (Cephes' polynomial), 0 below -87; vectorisable. */
inline float expNonPositive(float x) {
  const float under = x < -87.0f ? 0.0f : 1.0f;
  x = std::max(x, -87.0f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale * under;
}

constexpr int64_t kTile = 32;

/**
 * NHWC → per image [C][Hp][Wp] with `pad` zero rows and columns around, times `mul`.
 * Tiled (32 pixels × 32 channels) so that both sides are read and written in cache lines.
 */
void toPlanar(const float* src, float* dst, const Geometry& g, int64_t pad, float mul) {
  const int64_t hp = g.H + 2 * pad, wp = g.W + 2 * pad;
  if (pad > 0) std::fill(dst, dst + g.B * g.C * hp * wp, 0.0f);
  const int64_t ctiles = (g.C + kTile - 1) / kTile, jtiles = (g.W + kTile - 1) / kTile;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t i = 0; i < g.H; ++i) {
      for (int64_t ct = 0; ct < ctiles; ++ct) {
        const int64_t c0 = ct * kTile, c1 = std::min(g.C, c0 + kTile);
        for (int64_t jt = 0; jt < jtiles; ++jt) {
          const int64_t j0 = jt * kTile, j1 = std::min(g.W, j0 + kTile);
          for (int64_t c = c0; c < c1; ++c) {
            float* row = dst + ((b * g.C + c) * hp + i + pad) * wp + pad;
            const float* in = src + ((b * g.H + i) * g.W) * g.C + c;
            for (int64_t j = j0; j < j1; ++j) row[j] = in[j * g.C] * mul;
          }
        }
      }
    }
  }
}

/** Per image [C][Hp][Wp] (interior starting at `pad`) → NHWC, tiled like toPlanar. */
void fromPlanar(const float* src, float* dst, const Geometry& g, int64_t pad) {
  const int64_t hp = g.H + 2 * pad, wp = g.W + 2 * pad;
  const int64_t ctiles = (g.C + kTile - 1) / kTile, jtiles = (g.W + kTile - 1) / kTile;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t i = 0; i < g.H; ++i) {
      for (int64_t jt = 0; jt < jtiles; ++jt) {
        const int64_t j0 = jt * kTile, j1 = std::min(g.W, j0 + kTile);
        for (int64_t ct = 0; ct < ctiles; ++ct) {
          const int64_t c0 = ct * kTile, c1 = std::min(g.C, c0 + kTile);
          for (int64_t j = j0; j < j1; ++j) {
            float* out = dst + ((b * g.H + i) * g.W + j) * g.C;
            for (int64_t c = c0; c < c1; ++c) out[c] = src[((b * g.C + c) * hp + i + pad) * wp + pad + j];
          }
        }
      }
    }
  }
}

/** Per-task scratch: logits or weights [k²][W], and helpers. */
struct Scratch {
  std::vector<float> L, aux, rowL, colL, vecW;
  explicit Scratch(const Geometry& g)
      : L(g.K * g.K * g.W), aux(g.K * g.K * g.W), rowL(g.K * g.W), colL(g.K * g.W), vecW(g.W) {}
};

/**
 * Logits of query row i of image b, head n, into s.L[(da·k+db)·W + j]. qs: scaled planar q of
 * the image [C][H][W]; kp: padded planar k [C][Hp][Wp]; tables [k][C/2].
 */
void rowLogits(const Geometry& g, int64_t i, int64_t n, const float* qs, const float* kp,
               const float* relRow, const float* relCol, Scratch& s) {
  const int64_t K = g.K, W = g.W, lo = n * g.D, hi = lo + g.D;
  float* L = s.L.data();
  std::fill(L, L + K * K * W, 0.0f);
  if (g.useQK) {
    for (int64_t c = lo; c < hi; ++c) {
      const float* q = qs + (c * g.H + i) * W;
      for (int64_t da = 0; da < K; ++da) {
        const float* krow = kp + (c * g.Hp + i + da) * g.Wp;
        for (int64_t db = 0; db < K; ++db) {
          float* l = L + (da * K + db) * W;
          const float* k = krow + db;
#pragma omp simd
          for (int64_t j = 0; j < W; ++j) l[j] += q[j] * k[j];
        }
      }
    }
  }
  if (g.useQR) {
    float* rowL = s.rowL.data();
    float* colL = s.colL.data();
    std::fill(rowL, rowL + K * W, 0.0f);
    std::fill(colL, colL + K * W, 0.0f);
    for (int64_t c = lo; c < hi; ++c) {
      const float* q = qs + (c * g.H + i) * W;
      const bool isRow = c < g.half;
      const float* table = isRow ? relRow + c : relCol + (c - g.half);
      float* acc = isRow ? rowL : colL;
      for (int64_t t = 0; t < K; ++t) {
        const float r = table[t * g.half];
        float* a = acc + t * W;
#pragma omp simd
        for (int64_t j = 0; j < W; ++j) a[j] += q[j] * r;
      }
    }
    for (int64_t da = 0; da < K; ++da) {
      for (int64_t db = 0; db < K; ++db) {
        float* l = L + (da * K + db) * W;
        const float* rl = rowL + da * W;
        const float* cl = colL + db * W;
#pragma omp simd
        for (int64_t j = 0; j < W; ++j) l[j] += rl[j] + cl[j];
      }
    }
  }
  if (g.masked) {
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    for (int64_t da = 0; da < K; ++da) {
      const int64_t a = i + da - g.h;
      for (int64_t db = 0; db < K; ++db) {
        float* l = L + (da * K + db) * W;
        if (a < 0 || a >= g.H) {
          std::fill(l, l + W, ninf);
          continue;
        }
        for (int64_t j = 0; j < W; ++j) {
          const int64_t bb = j + db - g.h;
          if (bb < 0 || bb >= W) l[j] = ninf;
        }
      }
    }
  }
}

/** In place: L → exp(L - lse) given lse per pixel. */
void weightsFromLse(const Geometry& g, const float* lse, Scratch& s) {
  const int64_t KK = g.K * g.K, W = g.W;
  float* L = s.L.data();
  for (int64_t w = 0; w < KK; ++w) {
    float* l = L + w * W;
#pragma omp simd
    for (int64_t j = 0; j < W; ++j) l[j] = expNonPositive(std::min(l[j] - lse[j], 0.0f));
  }
}

/**
 * Buffers kept between calls and grown as needed: allocating tens of MB afresh on every call
 * costs more in page faults than the attention itself (measured: ~40 % of a call).
 */
enum Slot { kQ, kK, kV, kY, kDy, kDq, kDk, kDv, kSlots };

float* workspace(Slot slot, size_t size) {
  static std::vector<float> buffers[kSlots];
  std::vector<float>& b = buffers[slot];
  if (b.size() < size) b.resize(size);
  return b.data();
}

float* zeroed(Slot slot, size_t size) {
  float* p = workspace(slot, size);
  std::fill(p, p + size, 0.0f);
  return p;
}

struct Planar {
  const float *q, *k, *v;
};

Planar layOut(const Geometry& g, const float* q, const float* k, const float* v) {
  Planar p{};
  float* qp = workspace(kQ, g.B * g.C * g.plane());
  float* vp = workspace(kV, g.B * g.C * g.paddedPlane());
  toPlanar(q, qp, g, 0, g.scale);
  toPlanar(v, vp, g, g.h, 1.0f);
  p.q = qp, p.v = vp;
  if (g.useQK) {
    float* kp = workspace(kK, g.B * g.C * g.paddedPlane());
    toPlanar(k, kp, g, g.h, 1.0f);
    p.k = kp;
  }
  return p;
}

/**
 * localAttentionForward(q, k, v, relRow, relCol, y, lse, geometry, scale)
 * geometry: B, H, W, C, k, N, masked, useQK, useQR. Unused inputs may be empty.
 */
Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guarded(info, "localAttention2d", [&] {
    const Geometry g = Geometry::from(intsArg(info, 7, "geometry", 9), numArg(info, 8, "scale"));
    const float* q = floatArg(info, 0, "q", g.size());
    const float* k = floatArg(info, 1, "k", g.useQK ? g.size() : 0);
    const float* v = floatArg(info, 2, "v", g.size());
    const float* relRow = floatArg(info, 3, "relRow", g.useQR ? g.K * g.half : 0);
    const float* relCol = floatArg(info, 4, "relCol", g.useQR ? g.K * g.half : 0);
    float* y = floatArg(info, 5, "y", g.size());
    float* lse = floatArg(info, 6, "lse", g.B * g.H * g.W * g.N);
    const Planar p = layOut(g, q, k, v);
    float* yPlanar = workspace(kY, g.B * g.C * g.plane());
    const int64_t K = g.K, KK = K * K, W = g.W;
#pragma omp parallel
    {
      FlushDenormals ftz;
      Scratch s(g);
#pragma omp for collapse(2) schedule(dynamic)
      for (int64_t b = 0; b < g.B; ++b) {
        for (int64_t n = 0; n < g.N; ++n) {
          const float* qs = p.q + b * g.C * g.plane();
          const float* kp = g.useQK ? p.k + b * g.C * g.paddedPlane() : nullptr;
          const float* vp = p.v + b * g.C * g.paddedPlane();
          float* yb = yPlanar + b * g.C * g.plane();
          for (int64_t i = 0; i < g.H; ++i) {
            rowLogits(g, i, n, qs, kp, relRow, relCol, s);
            float* L = s.L.data();
            float* m = s.vecW.data();
            std::fill(m, m + W, -std::numeric_limits<float>::infinity());
            for (int64_t w = 0; w < KK; ++w) {
              const float* l = L + w * W;
#pragma omp simd
              for (int64_t j = 0; j < W; ++j) m[j] = std::max(m[j], l[j]);
            }
            float* sum = s.aux.data();
            std::fill(sum, sum + W, 0.0f);
            for (int64_t w = 0; w < KK; ++w) {
              float* l = L + w * W;
#pragma omp simd
              for (int64_t j = 0; j < W; ++j) {
                l[j] = expNonPositive(l[j] - m[j]);
                sum[j] += l[j];
              }
            }
            float* lrow = lse + ((b * g.H + i) * W) * g.N + n;
            for (int64_t j = 0; j < W; ++j) {
              lrow[j * g.N] = m[j] + std::log(sum[j]);
              sum[j] = 1.0f / sum[j];
            }
            for (int64_t c = n * g.D; c < (n + 1) * g.D; ++c) {
              float* out = yb + (c * g.H + i) * W;
              std::fill(out, out + W, 0.0f);
              for (int64_t da = 0; da < K; ++da) {
                const float* vrow = vp + (c * g.Hp + i + da) * g.Wp;
                for (int64_t db = 0; db < K; ++db) {
                  const float* pw = L + (da * K + db) * W;
                  const float* vv = vrow + db;
#pragma omp simd
                  for (int64_t j = 0; j < W; ++j) out[j] += pw[j] * vv[j];
                }
              }
#pragma omp simd
              for (int64_t j = 0; j < W; ++j) out[j] *= sum[j];
            }
          }
        }
      }
    }
    fromPlanar(yPlanar, y, g, 0);
  });
}

/**
 * localAttentionBackward(dy, q, k, v, relRow, relCol, lse, dq, dk, dv, dRelRow, dRelCol,
 *                        geometry, scale): gradients of Σ dy·y.
 */
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, "localAttention2d (gradient)", [&] {
    const Geometry g = Geometry::from(intsArg(info, 12, "geometry", 9), numArg(info, 13, "scale"));
    const int64_t tableSize = g.useQR ? g.K * g.half : 0;
    const float* dy = floatArg(info, 0, "dy", g.size());
    const float* q = floatArg(info, 1, "q", g.size());
    const float* k = floatArg(info, 2, "k", g.useQK ? g.size() : 0);
    const float* v = floatArg(info, 3, "v", g.size());
    const float* relRow = floatArg(info, 4, "relRow", tableSize);
    const float* relCol = floatArg(info, 5, "relCol", tableSize);
    const float* lse = floatArg(info, 6, "lse", g.B * g.H * g.W * g.N);
    float* dq = floatArg(info, 7, "dq", g.size());
    float* dk = floatArg(info, 8, "dk", g.useQK ? g.size() : 0);
    float* dv = floatArg(info, 9, "dv", g.size());
    float* dRelRow = floatArg(info, 10, "dRelRow", tableSize);
    float* dRelCol = floatArg(info, 11, "dRelCol", tableSize);
    const Planar p = layOut(g, q, k, v);
    float* dyP = workspace(kDy, g.B * g.C * g.plane());
    toPlanar(dy, dyP, g, 0, 1.0f);
    float* dqP = zeroed(kDq, g.B * g.C * g.plane());
    float* dkP = g.useQK ? zeroed(kDk, g.B * g.C * g.paddedPlane()) : nullptr;
    float* dvP = zeroed(kDv, g.B * g.C * g.paddedPlane());
    const int threads = numThreads();
    std::vector<double> dRel(static_cast<size_t>(threads) * 2 * tableSize, 0.0);
    const int64_t K = g.K, KK = K * K, W = g.W;
#pragma omp parallel num_threads(threads)
    {
      FlushDenormals ftz;
      Scratch s(g);
      std::vector<float> dS(KK * W), rowS(K * W), colS(K * W), lseRow(W);
      double* relAcc = dRel.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * tableSize;
#pragma omp for collapse(2) schedule(dynamic)
      for (int64_t b = 0; b < g.B; ++b) {
        for (int64_t n = 0; n < g.N; ++n) {
          const int64_t lo = n * g.D, hi = lo + g.D;
          const size_t imgPlane = b * g.C * g.plane(), imgPadded = b * g.C * g.paddedPlane();
          const float* qs = p.q + imgPlane;
          const float* kp = g.useQK ? p.k + imgPadded : nullptr;
          const float* vp = p.v + imgPadded;
          const float* dyb = dyP + imgPlane;
          float* dqb = dqP + imgPlane;
          float* dkb = g.useQK ? dkP + imgPadded : nullptr;
          float* dvb = dvP + imgPadded;
          for (int64_t i = 0; i < g.H; ++i) {
            rowLogits(g, i, n, qs, kp, relRow, relCol, s);
            const float* lrow = lse + ((b * g.H + i) * W) * g.N + n;
            for (int64_t j = 0; j < W; ++j) lseRow[j] = lrow[j * g.N];
            weightsFromLse(g, lseRow.data(), s);
            const float* P = s.L.data();
            // dP[w][j] = dy_ij · v_w (head's channels), into dS.
            std::fill(dS.begin(), dS.end(), 0.0f);
            for (int64_t c = lo; c < hi; ++c) {
              const float* g0 = dyb + (c * g.H + i) * W;
              for (int64_t da = 0; da < K; ++da) {
                const float* vrow = vp + (c * g.Hp + i + da) * g.Wp;
                for (int64_t db = 0; db < K; ++db) {
                  float* d = dS.data() + (da * K + db) * W;
                  const float* vv = vrow + db;
#pragma omp simd
                  for (int64_t j = 0; j < W; ++j) d[j] += g0[j] * vv[j];
                }
              }
            }
            float* delta = s.vecW.data();
            std::fill(delta, delta + W, 0.0f);
            for (int64_t w = 0; w < KK; ++w) {
              const float* pw = P + w * W;
              const float* d = dS.data() + w * W;
#pragma omp simd
              for (int64_t j = 0; j < W; ++j) delta[j] += pw[j] * d[j];
            }
            for (int64_t w = 0; w < KK; ++w) {
              const float* pw = P + w * W;
              float* d = dS.data() + w * W;
#pragma omp simd
              for (int64_t j = 0; j < W; ++j) d[j] = pw[j] * (d[j] - delta[j]);
            }
            for (int64_t c = lo; c < hi; ++c) {
              const float* g0 = dyb + (c * g.H + i) * W;
              const float* q0 = qs + (c * g.H + i) * W;
              float* dq0 = dqb + (c * g.H + i) * W;
              for (int64_t da = 0; da < K; ++da) {
                const int64_t rowOff = (c * g.Hp + i + da) * g.Wp;
                for (int64_t db = 0; db < K; ++db) {
                  const float* pw = P + (da * K + db) * W;
                  const float* d = dS.data() + (da * K + db) * W;
                  float* dvv = dvb + rowOff + db;
#pragma omp simd
                  for (int64_t j = 0; j < W; ++j) dvv[j] += pw[j] * g0[j];
                  if (g.useQK) {
                    const float* kk = kp + rowOff + db;
                    float* dkk = dkb + rowOff + db;
#pragma omp simd
                    for (int64_t j = 0; j < W; ++j) {
                      dq0[j] += d[j] * kk[j];
                      dkk[j] += d[j] * q0[j];
                    }
                  }
                }
              }
            }
            if (g.useQR) {
              std::fill(rowS.begin(), rowS.end(), 0.0f);
              std::fill(colS.begin(), colS.end(), 0.0f);
              for (int64_t da = 0; da < K; ++da) {
                for (int64_t db = 0; db < K; ++db) {
                  const float* d = dS.data() + (da * K + db) * W;
                  float* rs = rowS.data() + da * W;
                  float* cs = colS.data() + db * W;
#pragma omp simd
                  for (int64_t j = 0; j < W; ++j) {
                    rs[j] += d[j];
                    cs[j] += d[j];
                  }
                }
              }
              for (int64_t c = lo; c < hi; ++c) {
                const bool isRow = c < g.half;
                const int64_t col = isRow ? c : c - g.half;
                const float* table = isRow ? relRow : relCol;
                const float* sums = isRow ? rowS.data() : colS.data();
                double* acc = relAcc + (isRow ? 0 : tableSize);
                const float* q0 = qs + (c * g.H + i) * W;
                float* dq0 = dqb + (c * g.H + i) * W;
                for (int64_t t = 0; t < K; ++t) {
                  const float r = table[t * g.half + col];
                  const float* st = sums + t * W;
                  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                  for (int64_t j = 0; j < W; ++j) {
                    dq0[j] += st[j] * r;
                    dot += st[j] * q0[j];
                  }
                  acc[t * g.half + col] += dot;
                }
              }
            }
          }
        }
      }
    }
    // dq = scale · Σ dS (k + r); the planar dq holds Σ dS (k + r).
    const int64_t dqSize = g.B * g.C * g.plane();
#pragma omp parallel for simd schedule(static)
    for (int64_t e = 0; e < dqSize; ++e) dqP[e] *= g.scale;
    fromPlanar(dqP, dq, g, 0);
    fromPlanar(dvP, dv, g, g.h);
    if (g.useQK) fromPlanar(dkP, dk, g, g.h);
    if (g.useQR) {
      for (int64_t e = 0; e < tableSize; ++e) {
        double r = 0.0, c = 0.0;
        for (int t = 0; t < threads; ++t) {
          r += dRel[static_cast<size_t>(t) * 2 * tableSize + e];
          c += dRel[static_cast<size_t>(t) * 2 * tableSize + tableSize + e];
        }
        dRelRow[e] = static_cast<float>(r);
        dRelCol[e] = static_cast<float>(c);
      }
    }
  });
}

}  // namespace

void registerLocalAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("localAttentionForward", Napi::Function::New(env, Forward));
  exports.Set("localAttentionBackward", Napi::Function::New(env, Backward));
}

}  // namespace sasa
