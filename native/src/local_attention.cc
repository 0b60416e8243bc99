// Fused local self-attention (SASA.md §1), forward and backward, never materialising the k×k
// neighbourhood. Inputs arrive channels-last [B, H, W, C]; the kernels first lay q, k, v (and dy)
// out channel-major per image, [C][H][Wq] with rows padded to a whole number of SIMD vectors,
// k and v also zero-padded by h = k/2 on every side ([C][H+2h][Wq+2h]). Every inner loop then
// runs over a vector of VL neighbouring pixels: the k window offsets along a row are k shifted
// (unaligned) loads of the same key row, accumulated in k registers, so 'zeros' padding needs
// no tests. Work is split over (image, head) pairs: a head's channels of dk and dv are written
// by one task only, so the backward scatter needs no atomics. The common k (1..11) are compiled
// with the window size known; other sizes (up to 31) use the same code with a runtime size.
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

#if defined(__AVX512F__)
constexpr int64_t VL = 16;
#elif defined(__AVX__)
constexpr int64_t VL = 8;
#else
constexpr int64_t VL = 4;
#endif
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(float))));

inline vf loadu(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storeu(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return vf{} + x; }
inline float hsum(vf v) {
  float s = 0.0f;
  for (int64_t t = 0; t < VL; ++t) s += v[t];
  return s;
}
inline vf vmax(vf a, vf b) { return a > b ? a : b; }

constexpr int64_t kMaxWindow = 31;

struct Geometry {
  int64_t B, H, W, C, K, N, h, D, half, Hp, Wq, Wk;
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
    if (g.K > kMaxWindow) fail("localAttention2d", "the native kernels take kernelSize <= 31");
    g.h = g.K / 2, g.D = g.C / g.N, g.half = g.C / 2;
    g.Hp = g.H + 2 * g.h;
    g.Wq = (g.W + VL - 1) / VL * VL;
    g.Wk = g.Wq + 2 * g.h;
    g.scale = static_cast<float>(scale);
    return g;
  }
  int64_t size() const { return B * H * W * C; }
  /** Elements of one image's planar q (or dy, y, dq): C rows of H × Wq. */
  int64_t plane() const { return C * H * Wq; }
  /** Elements of one image's padded planar k (or v, dk, dv): C rows of Hp × Wk. */
  int64_t paddedPlane() const { return C * Hp * Wk; }
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

/**
 * exp(x) for x <= 0 to ~1 ulp (Cephes' polynomial), 0 below -87, on a vector. The rounding
 * uses the 1.5·2^23 trick (exact for |x·log2 e| < 2^22).
 */
inline vf expNonPositive(vf x) {
  const vf lim = splat(-87.0f);
  const vi under = x < lim;
  x = x < lim ? lim : x;
  const vf magic = splat(12582912.0f);
  const vf n = (x * 1.44269504088896341f + magic) - magic;
  vf r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  vf p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  vf two;
  std::memcpy(&two, &bits, sizeof two);
  const vf result = p * two;
  return under ? vf{} : result;
}

/**
 * NHWC → per image [C][rows][stride] with the image at (pad, pad) and zeros around, times `mul`.
 * Tiled (32 pixels × 32 channels) so that both sides are read and written in cache lines.
 */
constexpr int64_t kTile = 32;

void toPlanar(const float* src, float* dst, const Geometry& g, int64_t pad, int64_t stride, float mul) {
  const int64_t rows = g.H + 2 * pad;
  std::fill(dst, dst + g.B * g.C * rows * stride, 0.0f);
  const int64_t ctiles = (g.C + kTile - 1) / kTile, jtiles = (g.W + kTile - 1) / kTile;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t i = 0; i < g.H; ++i) {
      for (int64_t ct = 0; ct < ctiles; ++ct) {
        const int64_t c0 = ct * kTile, c1 = std::min(g.C, c0 + kTile);
        for (int64_t jt = 0; jt < jtiles; ++jt) {
          const int64_t j0 = jt * kTile, j1 = std::min(g.W, j0 + kTile);
          for (int64_t c = c0; c < c1; ++c) {
            float* row = dst + ((b * g.C + c) * rows + i + pad) * stride + pad;
            const float* in = src + ((b * g.H + i) * g.W) * g.C + c;
            for (int64_t j = j0; j < j1; ++j) row[j] = in[j * g.C] * mul;
          }
        }
      }
    }
  }
}

/** Per image [C][rows][stride] (image at (pad, pad)) → NHWC, times `mul`, tiled likewise. */
void fromPlanar(const float* src, float* dst, const Geometry& g, int64_t pad, int64_t stride, float mul) {
  const int64_t rows = g.H + 2 * pad;
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
            for (int64_t c = c0; c < c1; ++c) {
              out[c] = src[((b * g.C + c) * rows + i + pad) * stride + pad + j] * mul;
            }
          }
        }
      }
    }
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

/** Planar copies of one call's inputs (q scaled by `scale`). */
struct Planar {
  const float *q = nullptr, *k = nullptr, *v = nullptr;
};

Planar layOut(const Geometry& g, const float* q, const float* k, const float* v) {
  Planar p;
  float* qp = workspace(kQ, g.B * g.plane());
  float* vp = workspace(kV, g.B * g.paddedPlane());
  toPlanar(q, qp, g, 0, g.Wq, g.scale);
  toPlanar(v, vp, g, g.h, g.Wk, 1.0f);
  p.q = qp, p.v = vp;
  if (g.useQK) {
    float* kp = workspace(kK, g.B * g.paddedPlane());
    toPlanar(k, kp, g, g.h, g.Wk, 1.0f);
    p.k = kp;
  }
  return p;
}

/**
 * One (image, head) task's view: its head's channel rows of the planar buffers, and scratch.
 * Logit and weight rows are [k²][Wq]: w = da·k + db, one pixel per lane.
 */
template <int KT>
struct Task {
  const Geometry& g;
  const int64_t K, KK, lo, hi, rowHi, colLo;
  const int64_t qs, ks;  // channel strides of planar and padded planar buffers
  std::vector<float> L, aux, colMask;
  std::vector<vf> rel;  // [2][k] per chunk: relRow and relCol terms of the logits

  Task(const Geometry& geometry, int64_t n)
      : g(geometry), K(KT ? KT : geometry.K), KK(K * K), lo(n * geometry.D), hi(lo + geometry.D),
        rowHi(std::min(hi, geometry.half)), colLo(std::max(lo, geometry.half)),
        qs(geometry.H * geometry.Wq), ks(geometry.Hp * geometry.Wk), L(KK * geometry.Wq),
        aux(KK * geometry.Wq), colMask(K * geometry.Wq, 0.0f), rel(2 * K) {
    if (g.masked) {
      for (int64_t db = 0; db < K; ++db) {
        for (int64_t j = 0; j < g.W; ++j) {
          const int64_t b = j + db - g.h;
          if (b < 0 || b >= g.W) colMask[db * g.Wq + j] = -std::numeric_limits<float>::infinity();
        }
      }
    }
  }

  /** acc[db] = Σ_c a_c · b_c[db..db+VL): a, b point at the head's first channel, chunk j0. */
  void windowDots(const float* a, const float* b, vf* acc) const {
    for (int64_t db = 0; db < K; ++db) acc[db] = vf{};
    for (int64_t c = lo; c < hi; ++c) {
      const vf av = loadu(a);
      for (int64_t db = 0; db < K; ++db) acc[db] += av * loadu(b + db);
      a += qs;
      b += ks;
    }
  }

  /** Logits of row i into L; q: the image's scaled planar q, k: its padded planar k. */
  void logits(int64_t i, const float* q, const float* k, const float* relRow, const float* relCol) {
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    vf acc[KT ? KT : kMaxWindow];
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      const float* qrow = q + (lo * g.H + i) * g.Wq + j0;
      vf* rowL = rel.data();
      vf* colL = rel.data() + K;
      for (int64_t t = 0; t < 2 * K; ++t) rel[t] = vf{};
      if (g.useQR) {
        for (int64_t c = lo; c < hi; ++c) {
          const vf qv = loadu(qrow + (c - lo) * qs);
          if (c < g.half) {
            for (int64_t t = 0; t < K; ++t) rowL[t] += qv * relRow[t * g.half + c];
          } else {
            for (int64_t t = 0; t < K; ++t) colL[t] += qv * relCol[t * g.half + c - g.half];
          }
        }
      }
      for (int64_t da = 0; da < K; ++da) {
        const int64_t a = i + da - g.h;
        float* out = L.data() + da * K * g.Wq + j0;
        if (g.masked && (a < 0 || a >= g.H)) {
          for (int64_t db = 0; db < K; ++db) storeu(out + db * g.Wq, splat(ninf));
          continue;
        }
        if (g.useQK) {
          windowDots(qrow, k + (lo * g.Hp + i + da) * g.Wk + j0, acc);
        } else {
          for (int64_t db = 0; db < K; ++db) acc[db] = vf{};
        }
        for (int64_t db = 0; db < K; ++db) {
          vf l = acc[db] + rowL[da] + colL[db];
          if (g.masked) l += loadu(colMask.data() + db * g.Wq + j0);
          storeu(out + db * g.Wq, l);
        }
      }
    }
  }

  /** out_c[chunk] (for the head's channels) = Σ_w W[w] · b_c[row i + da][db..]. */
  void windowSums(int64_t i, const float* W, const float* b, float* out, int64_t outStride) const {
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      int64_t c = lo;
      for (; c + 1 < hi; c += 2) {
        vf acc0{}, acc1{};
        for (int64_t da = 0; da < K; ++da) {
          const float* b0 = b + (c * g.Hp + i + da) * g.Wk + j0;
          const float* b1 = b0 + ks;
          const float* w = W + da * K * g.Wq + j0;
          for (int64_t db = 0; db < K; ++db) {
            const vf wv = loadu(w + db * g.Wq);
            acc0 += wv * loadu(b0 + db);
            acc1 += wv * loadu(b1 + db);
          }
        }
        storeu(out + c * outStride + j0, loadu(out + c * outStride + j0) + acc0);
        storeu(out + (c + 1) * outStride + j0, loadu(out + (c + 1) * outStride + j0) + acc1);
      }
      for (; c < hi; ++c) {
        vf acc0{};
        for (int64_t da = 0; da < K; ++da) {
          const float* b0 = b + (c * g.Hp + i + da) * g.Wk + j0;
          const float* w = W + da * K * g.Wq + j0;
          for (int64_t db = 0; db < K; ++db) acc0 += loadu(w + db * g.Wq) * loadu(b0 + db);
        }
        storeu(out + c * outStride + j0, loadu(out + c * outStride + j0) + acc0);
      }
    }
  }

  /** dst_c[row i + da][db..] += W[w] · a_c[chunk], for the head's channels: the scatter. */
  void windowScatter(int64_t i, const float* W, const float* a, float* dst) const {
    for (int64_t c = lo; c < hi; ++c) {
      for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
        const vf av = loadu(a + (c * g.H + i) * g.Wq + j0);
        for (int64_t da = 0; da < K; ++da) {
          float* d = dst + (c * g.Hp + i + da) * g.Wk + j0;
          const float* w = W + da * K * g.Wq + j0;
          for (int64_t db = 0; db < K; ++db) storeu(d + db, loadu(d + db) + loadu(w + db * g.Wq) * av);
        }
      }
    }
  }
};

template <int KT>
void forwardImpl(const Geometry& g, const Planar& p, const float* relRow, const float* relCol,
                 float* yPlanar, float* lse) {
#pragma omp parallel
  {
    FlushDenormals ftz;
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < g.B; ++b) {
      for (int64_t n = 0; n < g.N; ++n) {
        Task<KT> t(g, n);
        const float* q = p.q + b * g.plane();
        const float* k = g.useQK ? p.k + b * g.paddedPlane() : nullptr;
        const float* v = p.v + b * g.paddedPlane();
        float* y = yPlanar + b * g.plane();
        for (int64_t i = 0; i < g.H; ++i) {
          t.logits(i, q, k, relRow, relCol);
          float* L = t.L.data();
          for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
            vf m = splat(-std::numeric_limits<float>::infinity());
            for (int64_t w = 0; w < t.KK; ++w) m = vmax(m, loadu(L + w * g.Wq + j0));
            vf sum{};
            for (int64_t w = 0; w < t.KK; ++w) {
              const vf e = expNonPositive(loadu(L + w * g.Wq + j0) - m);
              storeu(L + w * g.Wq + j0, e);
              sum += e;
            }
            const vf inv = 1.0f / sum;
            for (int64_t w = 0; w < t.KK; ++w) storeu(L + w * g.Wq + j0, loadu(L + w * g.Wq + j0) * inv);
            float* lrow = lse + ((b * g.H + i) * g.W) * g.N + n;
            for (int64_t l = 0; l < VL && j0 + l < g.W; ++l) lrow[(j0 + l) * g.N] = m[l] + std::log(sum[l]);
          }
          for (int64_t c = t.lo; c < t.hi; ++c) std::fill_n(y + (c * g.H + i) * g.Wq, g.Wq, 0.0f);
          t.windowSums(i, L, v, y + i * g.Wq, g.H * g.Wq);
        }
      }
    }
  }
}

template <int KT>
void backwardImpl(const Geometry& g, const Planar& p, const float* relRow, const float* relCol,
                  const float* lse, const float* dyP, float* dqP, float* dkP, float* dvP,
                  std::vector<double>& dRel) {
  const int threads = numThreads();
  const int64_t tableSize = g.useQR ? g.K * g.half : 0;
  dRel.assign(static_cast<size_t>(threads) * 2 * tableSize, 0.0);
#pragma omp parallel num_threads(threads)
  {
    FlushDenormals ftz;
    double* relAcc = dRel.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * tableSize;
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < g.B; ++b) {
      for (int64_t n = 0; n < g.N; ++n) {
        Task<KT> t(g, n);
        const int64_t K = t.K, KK = t.KK;
        const float* q = p.q + b * g.plane();
        const float* k = g.useQK ? p.k + b * g.paddedPlane() : nullptr;
        const float* v = p.v + b * g.paddedPlane();
        const float* dy = dyP + b * g.plane();
        float* dq = dqP + b * g.plane();
        float* dk = g.useQK ? dkP + b * g.paddedPlane() : nullptr;
        float* dv = dvP + b * g.paddedPlane();
        std::vector<vf> relV(g.useQR ? 2 * K * g.D : 0);
        vf acc[KT ? KT : kMaxWindow];
        for (int64_t i = 0; i < g.H; ++i) {
          t.logits(i, q, k, relRow, relCol);
          float* P = t.L.data();
          float* dS = t.aux.data();
          const float* lrow = lse + ((b * g.H + i) * g.W) * g.N + n;
          for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
            vf l{};
            for (int64_t e = 0; e < VL; ++e) {
              l[e] = j0 + e < g.W ? lrow[(j0 + e) * g.N] : std::numeric_limits<float>::infinity();
            }
            for (int64_t w = 0; w < KK; ++w) {
              const vf x = loadu(P + w * g.Wq + j0) - l;
              storeu(P + w * g.Wq + j0, expNonPositive(x < 0.0f ? x : vf{}));
            }
            // dP[w] = dy · v_w (the head's channels), then dS = P (dP - Σ P dP).
            const float* dyrow = dy + (t.lo * g.H + i) * g.Wq + j0;
            vf delta{};
            for (int64_t da = 0; da < K; ++da) {
              t.windowDots(dyrow, v + (t.lo * g.Hp + i + da) * g.Wk + j0, acc);
              for (int64_t db = 0; db < K; ++db) {
                const int64_t w = da * K + db;
                storeu(dS + w * g.Wq + j0, acc[db]);
                delta += loadu(P + w * g.Wq + j0) * acc[db];
              }
            }
            for (int64_t w = 0; w < KK; ++w) {
              const vf pw = loadu(P + w * g.Wq + j0);
              storeu(dS + w * g.Wq + j0, pw * (loadu(dS + w * g.Wq + j0) - delta));
            }
          }
          if (g.useQK) t.windowSums(i, dS, k, dq + i * g.Wq, g.H * g.Wq);
          if (g.useQK) t.windowScatter(i, dS, q, dk);
          t.windowScatter(i, P, dy, dv);
          if (g.useQR) {
            for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
              vf* rowS = t.rel.data();
              vf* colS = t.rel.data() + K;
              for (int64_t e = 0; e < 2 * K; ++e) t.rel[e] = vf{};
              for (int64_t da = 0; da < K; ++da) {
                for (int64_t db = 0; db < K; ++db) {
                  const vf d = loadu(dS + (da * K + db) * g.Wq + j0);
                  rowS[da] += d;
                  colS[db] += d;
                }
              }
              for (int64_t c = t.lo; c < t.hi; ++c) {
                const bool isRow = c < g.half;
                const float* table = isRow ? relRow + c : relCol + (c - g.half);
                const vf* sums = isRow ? rowS : colS;
                const vf qv = loadu(q + (c * g.H + i) * g.Wq + j0);
                float* dqc = dq + (c * g.H + i) * g.Wq + j0;
                vf dqv = loadu(dqc);
                vf* racc = relV.data() + ((c - t.lo) * 2 + (isRow ? 0 : 1)) * K;
                for (int64_t e = 0; e < K; ++e) {
                  dqv += sums[e] * table[e * g.half];
                  racc[e] += sums[e] * qv;
                }
                storeu(dqc, dqv);
              }
            }
          }
        }
        for (int64_t c = t.lo; c < t.hi && g.useQR; ++c) {
          const bool isRow = c < g.half;
          const int64_t col = isRow ? c : c - g.half;
          const vf* racc = relV.data() + ((c - t.lo) * 2 + (isRow ? 0 : 1)) * K;
          double* accOut = relAcc + (isRow ? 0 : tableSize);
          for (int64_t e = 0; e < K; ++e) accOut[e * g.half + col] += hsum(racc[e]);
        }
      }
    }
  }
}

template <template <int> class F, typename... Args>
void dispatchWindow(int64_t k, Args&&... args) {
  switch (k) {
    case 1: return F<1>::run(args...);
    case 3: return F<3>::run(args...);
    case 5: return F<5>::run(args...);
    case 7: return F<7>::run(args...);
    case 9: return F<9>::run(args...);
    case 11: return F<11>::run(args...);
    default: return F<0>::run(args...);
  }
}

template <int KT>
struct ForwardRun {
  template <typename... Args>
  static void run(Args&&... args) { forwardImpl<KT>(args...); }
};

template <int KT>
struct BackwardRun {
  template <typename... Args>
  static void run(Args&&... args) { backwardImpl<KT>(args...); }
};

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
    float* yPlanar = workspace(kY, g.B * g.plane());
    dispatchWindow<ForwardRun>(g.K, g, p, relRow, relCol, yPlanar, lse);
    fromPlanar(yPlanar, y, g, 0, g.Wq, 1.0f);
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
    float* dyP = workspace(kDy, g.B * g.plane());
    toPlanar(dy, dyP, g, 0, g.Wq, 1.0f);
    float* dqP = zeroed(kDq, g.B * g.plane());
    float* dkP = g.useQK ? zeroed(kDk, g.B * g.paddedPlane()) : nullptr;
    float* dvP = zeroed(kDv, g.B * g.paddedPlane());
    std::vector<double> dRel;
    dispatchWindow<BackwardRun>(g.K, g, p, relRow, relCol, lse, dyP, dqP, dkP, dvP, dRel);
    // The planar dq holds Σ dS (k + r); dq = scale · that.
    fromPlanar(dqP, dq, g, 0, g.Wq, g.scale);
    fromPlanar(dvP, dv, g, g.h, g.Wk, 1.0f);
    if (g.useQK) fromPlanar(dkP, dk, g, g.h, g.Wk, 1.0f);
    const int threads = numThreads();
    for (int64_t e = 0; e < tableSize; ++e) {
      double r = 0.0, c = 0.0;
      for (int t = 0; t < threads; ++t) {
        r += dRel[static_cast<size_t>(t) * 2 * tableSize + e];
        c += dRel[static_cast<size_t>(t) * 2 * tableSize + tableSize + e];
      }
      dRelRow[e] = static_cast<float>(r);
      dRelCol[e] = static_cast<float>(c);
    }
  });
}

}  // namespace

void registerLocalAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("localAttentionForward", Napi::Function::New(env, Forward));
  exports.Set("localAttentionBackward", Napi::Function::New(env, Backward));
}

}  // namespace sasa
