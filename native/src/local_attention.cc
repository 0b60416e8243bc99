// Fused local self-attention (SASA.md §1), forward and backward, never materialising the k×k
// neighbourhood. Every (image, head) pair is an independent task, and one parallel region per call
// runs them all (one barrier per call: a thread descheduled by another process then delays only
// its own task). A task copies its head's D channels of q, k, v (and dy) from the channels-last
// [B, H, W, C] tensors into per-thread channel-major buffers [D][H+2h][Wq+2h] (Wq: the width
// rounded up to whole SIMD vectors, h = k/2, zeros around), which stay in cache, and writes its
// channels of the outputs straight back. Every inner loop runs over a vector of VL neighbouring
// pixels: the k window offsets along a row are k shifted (unaligned) loads of one row, accumulated
// in registers, and 'zeros' padding needs no tests. The backward pass keeps the task's softmax
// weights and their gradients ([H][k²][row]) and computes dk and dv as gathers over the queries
// that saw each key, so no output is written more than once. The common k (1..11) are compiled
// with the window size known; other sizes (up to 31) use the same code with a runtime size. Small
// images (H·W <= 100) take a separate image-parallel path, below: dense attention among the
// pixels of each image.
//
// Per query pixel (i, j) and head n, window offsets (da, db) ∈ [0, k)², (a, b) = (i+da-h, j+db-h):
//   L[da,db] = q̂·k_ab + q̂_row·relRow[da] + q̂_col·relCol[db],  q̂ = scale·q (head's channels)
//   p = softmax(L), y = Σ p v_ab, lse = log Σ exp L
// Backward keeps only lse between the passes: p is recomputed from the logits.
#include <omp.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"
#include "simd.h"

namespace sasa {
namespace {

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
 * Per-thread scratch, kept between calls and grown as needed (fresh pages cost page faults): the
 * task's logits / softmax weights and their gradients, and its head's channel-major copies.
 */
enum Slot { kL, kAux, kQ, kK, kV, kDy, kOut0, kOut1, kOut2, kSlots };

float* threadBuffer(Slot slot, size_t size) {
  thread_local std::vector<float> buffers[kSlots];
  std::vector<float>& b = buffers[slot];
  if (b.size() < size) b.resize(size);
  return b.data();
}

constexpr int64_t kTile = 32;

/**
 * Channels [lo, lo + D) of image b of NHWC x → [D][Hp][Wk] with the image at (h, h) and zeros
 * around, × mul. In tiles of 32 pixels, so the strided reads stay within a few cache lines.
 */
void headToPlanar(const Geometry& g, const float* x, int64_t b, int64_t lo, float mul, float* dst) {
  const int64_t cs = g.Hp * g.Wk;
  for (int64_t c = 0; c < g.D; ++c) {
    float* p = dst + c * cs;
    std::fill_n(p, g.h * g.Wk, 0.0f);
    std::fill_n(p + (g.h + g.H) * g.Wk, g.h * g.Wk, 0.0f);
  }
  for (int64_t i = 0; i < g.H; ++i) {
    const float* in = x + ((b * g.H + i) * g.W) * g.C + lo;
    for (int64_t c = 0; c < g.D; ++c) {
      float* row = dst + c * cs + (i + g.h) * g.Wk;
      std::fill_n(row, g.h, 0.0f);
      std::fill_n(row + g.h + g.W, g.Wk - g.h - g.W, 0.0f);
    }
    for (int64_t j0 = 0; j0 < g.W; j0 += kTile) {
      const int64_t j1 = std::min(g.W, j0 + kTile);
      for (int64_t c = 0; c < g.D; ++c) {
        float* row = dst + c * cs + (i + g.h) * g.Wk + g.h;
        for (int64_t j = j0; j < j1; ++j) row[j] = in[j * g.C + c] * mul;
      }
    }
  }
}

/** [D][H][Wq] → channels [lo, lo + D) of image b of NHWC x, × mul. */
void headFromPlanar(const Geometry& g, const float* src, float mul, float* x, int64_t b,
                    int64_t lo) {
  const int64_t plane = g.H * g.Wq;
  for (int64_t i = 0; i < g.H; ++i) {
    for (int64_t j = 0; j < g.W; ++j) {
      float* out = x + ((b * g.H + i) * g.W + j) * g.C + lo;
      for (int64_t c = 0; c < g.D; ++c) out[c] = src[c * plane + i * g.Wq + j] * mul;
    }
  }
}

/** One (image, head) task: its channel-major buffers and the window computations on them. */
template <int KT>
struct Task {
  const Geometry& g;
  const int64_t K, KK, lo, hi, rowHi, colLo;
  const int64_t cs;  // channel stride of the padded buffers: Hp · Wk
  std::vector<float> colMask;
  vf rel[2 * (KT ? KT : kMaxWindow)];

  Task(const Geometry& geometry, int64_t n)
      : g(geometry), K(KT ? KT : geometry.K), KK(K * K), lo(n * geometry.D), hi(lo + geometry.D),
        rowHi(std::min(hi, geometry.half)), colLo(std::max(lo, geometry.half)),
        cs(geometry.Hp * geometry.Wk), colMask(g.masked ? K * geometry.Wq : 0, 0.0f) {
    for (int64_t db = 0; g.masked && db < K; ++db) {
      for (int64_t j = 0; j < g.W; ++j) {
        const int64_t b = j + db - g.h;
        if (b < 0 || b >= g.W) colMask[db * g.Wq + j] = -std::numeric_limits<float>::infinity();
      }
    }
  }

  /** acc[db] = Σ_c a_c · b_c[db..db+VL), over the head's channels (channel stride cs). */
  void windowDots(const float* a, const float* b, vf* acc) const {
    for (int64_t db = 0; db < K; ++db) acc[db] = vf{};
    for (int64_t c = 0; c < g.D; ++c) {
      const vf av = loadu(a + c * cs);
      const float* bc = b + c * cs;
      for (int64_t db = 0; db < K; ++db) acc[db] += av * loadu(bc + db);
    }
  }

  /** Logits of query row i into L[w · ls + j] (w = da·k + db). */
  void logits(int64_t i, const float* q, const float* k, const float* relRow, const float* relCol,
              float* L, int64_t ls) {
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    vf acc[KT ? KT : kMaxWindow];
    vf* rowL = rel;
    vf* colL = rel + K;
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      const float* qrow = q + (i + g.h) * g.Wk + g.h + j0;
      for (int64_t t = 0; t < 2 * K; ++t) rel[t] = vf{};
      if (g.useQR) {
        for (int64_t c = lo; c < hi; ++c) {
          const vf qv = loadu(qrow + (c - lo) * cs);
          if (c < g.half) {
            for (int64_t t = 0; t < K; ++t) rowL[t] += qv * relRow[t * g.half + c];
          } else {
            for (int64_t t = 0; t < K; ++t) colL[t] += qv * relCol[t * g.half + c - g.half];
          }
        }
      }
      for (int64_t da = 0; da < K; ++da) {
        const int64_t a = i + da - g.h;
        float* out = L + da * K * ls + j0;
        if (g.masked && (a < 0 || a >= g.H)) {
          for (int64_t db = 0; db < K; ++db) storeu(out + db * ls, splat(ninf));
          continue;
        }
        if (g.useQK) {
          windowDots(qrow, k + (i + da) * g.Wk + j0, acc);
        } else {
          for (int64_t db = 0; db < K; ++db) acc[db] = vf{};
        }
        for (int64_t db = 0; db < K; ++db) {
          vf l = acc[db] + rowL[da] + colL[db];
          if (g.masked) l += loadu(colMask.data() + db * g.Wq + j0);
          storeu(out + db * ls, l);
        }
      }
    }
  }

  /** out[c][i][chunk] += Σ_w Wt[w · ws + chunk] · b_c[row i + da][chunk + db] (D × H × Wq out). */
  void windowSums(int64_t i, const float* Wt, int64_t ws, const float* b, float* out) const {
    const int64_t plane = g.H * g.Wq;
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      int64_t c = 0;
      for (; c + 1 < g.D; c += 2) {
        vf acc0{}, acc1{};
        for (int64_t da = 0; da < K; ++da) {
          const float* b0 = b + c * cs + (i + da) * g.Wk + j0;
          const float* b1 = b0 + cs;
          const float* w = Wt + da * K * ws + j0;
          for (int64_t db = 0; db < K; ++db) {
            const vf wv = loadu(w + db * ws);
            acc0 += wv * loadu(b0 + db);
            acc1 += wv * loadu(b1 + db);
          }
        }
        float* o = out + c * plane + i * g.Wq + j0;
        storeu(o, loadu(o) + acc0);
        storeu(o + plane, loadu(o + plane) + acc1);
      }
      for (; c < g.D; ++c) {
        vf acc0{};
        for (int64_t da = 0; da < K; ++da) {
          const float* b0 = b + c * cs + (i + da) * g.Wk + j0;
          const float* w = Wt + da * K * ws + j0;
          for (int64_t db = 0; db < K; ++db) acc0 += loadu(w + db * ws) * loadu(b0 + db);
        }
        float* o = out + c * plane + i * g.Wq + j0;
        storeu(o, loadu(o) + acc0);
      }
    }
  }

  /**
   * For every in-image key (a, x): out[c][a][x] = Σ over the queries (i, j) = (a + h - da,
   * x + h - db) that saw it of Wt_i[w][j] · a_c[i][j]. Wt: [H][k²][Wk] with row data at column h
   * and zero margins; a: padded [D][Hp][Wk].
   */
  void keyGather(const float* Wt, const float* src, float* out) const {
    const int64_t plane = g.H * g.Wq, rs = KK * g.Wk;
    for (int64_t ka = 0; ka < g.H; ++ka) {
      for (int64_t x0 = 0; x0 < g.Wq; x0 += VL) {
        int64_t c = 0;
        for (; c + 1 < g.D; c += 2) {
          vf acc0{}, acc1{};
          for (int64_t da = 0; da < K; ++da) {
            const int64_t i = ka + g.h - da;
            if (i < 0 || i >= g.H) continue;
            const float* w = Wt + i * rs + da * K * g.Wk + g.h + x0 + g.h;
            const float* s0 = src + c * cs + (i + g.h) * g.Wk + g.h + x0 + g.h;
            const float* s1 = s0 + cs;
            for (int64_t db = 0; db < K; ++db) {
              const vf wv = loadu(w + db * g.Wk - db);
              acc0 += wv * loadu(s0 - db);
              acc1 += wv * loadu(s1 - db);
            }
          }
          storeu(out + c * plane + ka * g.Wq + x0, acc0);
          storeu(out + (c + 1) * plane + ka * g.Wq + x0, acc1);
        }
        for (; c < g.D; ++c) {
          vf acc0{};
          for (int64_t da = 0; da < K; ++da) {
            const int64_t i = ka + g.h - da;
            if (i < 0 || i >= g.H) continue;
            const float* w = Wt + i * rs + da * K * g.Wk + g.h + x0 + g.h;
            const float* s0 = src + c * cs + (i + g.h) * g.Wk + g.h + x0 + g.h;
            for (int64_t db = 0; db < K; ++db) acc0 += loadu(w + db * g.Wk - db) * loadu(s0 - db);
          }
          storeu(out + c * plane + ka * g.Wq + x0, acc0);
        }
      }
    }
  }
};

/** Head channels [lo, lo + D) of image b of q (scaled), k (when used) and v into one task's planar buffers. */
void layOutHead(const Geometry& g, const float* q, const float* k, const float* v, int64_t b, int64_t lo,
                float* Q, float* Kb, float* V) {
  headToPlanar(g, q, b, lo, g.scale, Q);
  if (g.useQK) headToPlanar(g, k, b, lo, 1.0f, Kb);
  headToPlanar(g, v, b, lo, 1.0f, V);
}

template <int KT>
void forwardImpl(const Geometry& g, const float* q, const float* k, const float* v,
                 const float* relRow, const float* relCol, float* y, float* lse) {
  const int64_t padded = g.D * g.Hp * g.Wk, local = g.D * g.H * g.Wq;
#pragma omp parallel
  {
    FlushDenormals ftz;
    float* Q = threadBuffer(kQ, padded);
    float* Kb = g.useQK ? threadBuffer(kK, padded) : nullptr;
    float* V = threadBuffer(kV, padded);
    float* Y = threadBuffer(kOut0, local);
    float* L = threadBuffer(kL, g.K * g.K * g.Wq);
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < g.B * g.N; ++task) {
      const int64_t b = task / g.N, n = task % g.N;  // image-major: the image stays in cache
      Task<KT> t(g, n);
      layOutHead(g, q, k, v, b, t.lo, Q, Kb, V);
      std::fill(Y, Y + local, 0.0f);
      for (int64_t i = 0; i < g.H; ++i) {
        t.logits(i, Q, Kb, relRow, relCol, L, g.Wq);
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
        t.windowSums(i, L, g.Wq, V, Y);
      }
      headFromPlanar(g, Y, 1.0f, y, b, t.lo);
    }
  }
}

struct Grads {
  float *dq, *dk, *dv;
};

/**
 * dRel gets one slice [dRelRow | dRelCol] per image, each entry written by one task only (the
 * heads own disjoint channels), so the sum over the images in order does not depend on the
 * threads.
 */
template <int KT>
void backwardImpl(const Geometry& g, const float* dy, const float* q, const float* k,
                  const float* v, const float* relRow, const float* relCol, const float* lse,
                  Grads out, std::vector<double>& dRel) {
  const int64_t tableSize = g.useQR ? g.K * g.half : 0;
  dRel.assign(static_cast<size_t>(g.B) * 2 * tableSize, 0.0);
  const int64_t padded = g.D * g.Hp * g.Wk, local = g.D * g.H * g.Wq;
  const int64_t K = KT ? KT : g.K, KK = K * K;
  const int64_t rs = KK * g.Wk;  // one query row of P or dS
#pragma omp parallel
  {
    FlushDenormals ftz;
    float* Q = threadBuffer(kQ, padded);
    float* Kb = g.useQK ? threadBuffer(kK, padded) : nullptr;
    float* V = threadBuffer(kV, padded);
    float* DY = threadBuffer(kDy, padded);
    float* DQ = threadBuffer(kOut0, local);
    float* DK = g.useQK ? threadBuffer(kOut1, local) : nullptr;
    float* DV = threadBuffer(kOut2, local);
    float* Pall = threadBuffer(kL, g.H * rs);
    float* dSall = threadBuffer(kAux, g.H * rs);
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < g.B * g.N; ++task) {
      const int64_t b = task / g.N, n = task % g.N;  // image-major: the image stays in cache
      Task<KT> t(g, n);
      layOutHead(g, q, k, v, b, t.lo, Q, Kb, V);
      headToPlanar(g, dy, b, t.lo, 1.0f, DY);
      std::fill(DQ, DQ + local, 0.0f);
      std::vector<vf> relV(g.useQR ? 2 * K * g.D : 0);
      vf acc[KT ? KT : kMaxWindow];
      for (int64_t i = 0; i < g.H; ++i) {
        float* P = Pall + i * rs;
        float* dS = dSall + i * rs;
        for (int64_t w = 0; w < KK; ++w) {  // zero margins: the key gathers read them
          std::fill_n(P + w * g.Wk, g.h, 0.0f);
          std::fill_n(P + w * g.Wk + g.h + g.Wq, g.h, 0.0f);
          std::fill_n(dS + w * g.Wk, g.h, 0.0f);
          std::fill_n(dS + w * g.Wk + g.h + g.Wq, g.h, 0.0f);
        }
        P += g.h;
        dS += g.h;
        t.logits(i, Q, Kb, relRow, relCol, P, g.Wk);
        const float* lrow = lse + ((b * g.H + i) * g.W) * g.N + n;
        for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
          vf l{};
          for (int64_t e = 0; e < VL; ++e) {
            l[e] = j0 + e < g.W ? lrow[(j0 + e) * g.N] : std::numeric_limits<float>::infinity();
          }
          for (int64_t w = 0; w < KK; ++w) {
            const vf x = loadu(P + w * g.Wk + j0) - l;
            storeu(P + w * g.Wk + j0, expNonPositive(x < 0.0f ? x : vf{}));
          }
          // dP[w] = dy · v_w over the head's channels, then dS = P (dP - Σ_w P dP).
          const float* dyrow = DY + (i + g.h) * g.Wk + g.h + j0;
          vf delta{};
          for (int64_t da = 0; da < K; ++da) {
            t.windowDots(dyrow, V + (i + da) * g.Wk + j0, acc);
            for (int64_t db = 0; db < K; ++db) {
              const int64_t w = da * K + db;
              storeu(dS + w * g.Wk + j0, acc[db]);
              delta += loadu(P + w * g.Wk + j0) * acc[db];
            }
          }
          for (int64_t w = 0; w < KK; ++w) {
            const vf pw = loadu(P + w * g.Wk + j0);
            storeu(dS + w * g.Wk + j0, pw * (loadu(dS + w * g.Wk + j0) - delta));
          }
        }
        if (g.useQK) t.windowSums(i, dS, g.Wk, Kb, DQ);
        if (g.useQR) {
          vf* rowS = t.rel;
          vf* colS = t.rel + K;
          for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
            for (int64_t e = 0; e < 2 * K; ++e) t.rel[e] = vf{};
            for (int64_t da = 0; da < K; ++da) {
              for (int64_t db = 0; db < K; ++db) {
                const vf d = loadu(dS + (da * K + db) * g.Wk + j0);
                rowS[da] += d;
                colS[db] += d;
              }
            }
            for (int64_t c = t.lo; c < t.hi; ++c) {
              const bool isRow = c < g.half;
              const float* table = isRow ? relRow + c : relCol + (c - g.half);
              const vf* sums = isRow ? rowS : colS;
              const vf qv = loadu(Q + (c - t.lo) * t.cs + (i + g.h) * g.Wk + g.h + j0);
              float* dqc = DQ + ((c - t.lo) * g.H + i) * g.Wq + j0;
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
      if (g.useQK) t.keyGather(dSall, Q, DK);
      t.keyGather(Pall, DY, DV);
      double* relAcc = dRel.data() + static_cast<size_t>(b) * 2 * tableSize;
      for (int64_t c = t.lo; c < t.hi && g.useQR; ++c) {
        const bool isRow = c < g.half;
        const int64_t col = isRow ? c : c - g.half;
        const vf* racc = relV.data() + ((c - t.lo) * 2 + (isRow ? 0 : 1)) * K;
        double* accOut = relAcc + (isRow ? 0 : tableSize);
        for (int64_t e = 0; e < K; ++e) accOut[e * g.half + col] = hsum(racc[e]);
      }
      // The planar dq holds Σ dS (k + r); dq = scale · that.
      headFromPlanar(g, DQ, g.scale, out.dq, b, t.lo);
      if (g.useQK) headFromPlanar(g, DK, 1.0f, out.dk, b, t.lo);
      headFromPlanar(g, DV, 1.0f, out.dv, b, t.lo);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Small images (H·W <= kSmallPixels = 100, e.g. the 4×4 patches of an attention stem): the planar
// layout above would be mostly halo and padding lanes, so images run in parallel instead, each
// (image, head) as dense attention among its S = H·W pixels with the window test per pair. Per
// thread, the head's slices are copied into small padded buffers (rows of Dp channels, or
// transposed rows of Sp pixels, both whole vectors, zeros beyond D and S) and every product is a
// vector loop over pixels or channels with the other operand broadcast.

// The crossover, measured fwd+bwd at C = 64, k = 7, 4 heads, one thread: 8×8 and 10×10 run
// 2.0× and 1.3× faster here, 12×12 1.2× slower (the work per pixel grows with S here, with k² on
// the planar path). Rebuild with CXXFLAGS=-DSASA_SMALL_PIXELS=n to measure another.
#ifndef SASA_SMALL_PIXELS
#define SASA_SMALL_PIXELS 100
#endif
constexpr int64_t kSmallPixels = SASA_SMALL_PIXELS;

inline int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/** x in every lane, as one broadcast (splat's 0 + x costs an add: it must turn -0 into +0). */
inline vf bcast(float x) {
#if defined(__AVX512F__)
  return reinterpret_cast<vf>(_mm512_set1_ps(x));
#elif defined(__AVX__)
  return reinterpret_cast<vf>(_mm256_set1_ps(x));
#else
  return reinterpret_cast<vf>(_mm_set1_ps(x));
#endif
}

/** The largest lane and the sum of the lanes (by halving). */
inline float laneMax(vf v) {
#if defined(__AVX512F__)
  return _mm512_reduce_max_ps(reinterpret_cast<__m512>(v));
#else
  float m = v[0];
  for (int64_t t = 1; t < VL; ++t) m = std::max(m, v[t]);
  return m;
#endif
}
inline float laneSum(vf v) {
#if defined(__AVX512F__)
  return _mm512_reduce_add_ps(reinterpret_cast<__m512>(v));
#else
  return hsum(v);
#endif
}

/**
 * O[i][j] = (O[i][j] if add) + Σ_{x<n} A[i·as + x·ax] · B[x·bs + j] for R rows i and j < cols
 * (a multiple of VL): R independent accumulators share each loaded vector of B.
 */
template <int R>
inline void gemmRows(const float* A, int64_t as, int64_t ax, const float* B, int64_t bs, int64_t n,
                     int64_t cols, float* O, int64_t os, bool add) {
  for (int64_t j0 = 0; j0 < cols; j0 += VL) {
    vf acc[R];
    for (int r = 0; r < R; ++r) acc[r] = add ? loadu(O + r * os + j0) : vf{};
    for (int64_t x = 0; x < n; ++x) {
      const vf bv = loadu(B + x * bs + j0);
      for (int r = 0; r < R; ++r) acc[r] += bcast(A[r * as + x * ax]) * bv;
    }
    for (int r = 0; r < R; ++r) storeu(O + r * os + j0, acc[r]);
  }
}

/** gemmRows over `rows` rows, in blocks of 8, 4, 2 and 1. */
inline void gemm(int64_t rows, const float* A, int64_t as, int64_t ax, const float* B, int64_t bs,
                 int64_t n, int64_t cols, float* O, int64_t os, bool add = false) {
  int64_t i = 0;
  for (; i + 8 <= rows; i += 8) gemmRows<8>(A + i * as, as, ax, B, bs, n, cols, O + i * os, os, add);
  if (i + 4 <= rows) gemmRows<4>(A + i * as, as, ax, B, bs, n, cols, O + i * os, os, add), i += 4;
  if (i + 2 <= rows) gemmRows<2>(A + i * as, as, ax, B, bs, n, cols, O + i * os, os, add), i += 2;
  if (i < rows) gemmRows<1>(A + i * as, as, ax, B, bs, n, cols, O + i * os, os, add);
}

/** exp(x - lse) of a logit that cannot exceed lse (clamped against rounding). */
inline vf expBelow(vf x, vf lse) {
  const vf d = x - lse;
  return expNonPositive(d < 0.0f ? d : vf{});
}

/** Everything a small-image head needs that does not depend on the image. */
struct SmallPlan {
  const Geometry& g;
  int64_t S, Sp, Dp, Kp;
  // Per head n: its channels of the tables, rows padded to Dp (zeros outside its row / column
  // half): tab[(n · 2 + 0) · K · Dp + t · Dp + d] = relRow[t][lo + d] when lo + d < C/2, and
  // the column table at (n · 2 + 1). Transposed for the logits: tabT[n][c][Kp] likewise.
  std::vector<float> tab, tabT;
  // Per pair (s, t) of pixels, [S][Sp]: 0 when t is in the window of s, else -inf (and for the
  // padding lanes t >= S); the window row da = ta - sa + h and column db of t (0 outside), so
  // that the relative logits of a vector of t are two shuffles of rowL[s] and colL[s] (when the
  // tables fit two vectors: shuffled, K <= 2 VL).
  std::vector<float> mask;
  std::vector<int32_t> rowIdx, colIdx;
  bool shuffled;

  explicit SmallPlan(const Geometry& geometry, const float* relRow, const float* relCol)
      : g(geometry), S(geometry.H * geometry.W), Sp(roundUp(S, VL)), Dp(roundUp(geometry.D, VL)),
        Kp(roundUp(geometry.K, VL)), mask(S * Sp, -std::numeric_limits<float>::infinity()),
        rowIdx(S * Sp, 0), colIdx(S * Sp, 0), shuffled(Kp <= 2 * VL) {
    for (int64_t s = 0; s < S; ++s) {
      for (int64_t t = 0; t < S; ++t) {
        const int64_t da = t / g.W - s / g.W + g.h, db = t % g.W - s % g.W + g.h;
        if (da < 0 || da >= g.K || db < 0 || db >= g.K) continue;
        mask[s * Sp + t] = 0.0f;
        rowIdx[s * Sp + t] = static_cast<int32_t>(da);
        colIdx[s * Sp + t] = static_cast<int32_t>(db);
      }
    }
    if (!g.useQR) return;
    tab.assign(g.N * 2 * g.K * Dp, 0.0f);
    tabT.assign(g.N * 2 * Dp * Kp, 0.0f);
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t d = 0; d < g.D; ++d) {
        const int64_t c = n * g.D + d;
        const bool isRow = c < g.half;
        const float* table = isRow ? relRow + c : relCol + (c - g.half);
        const int64_t part = n * 2 + (isRow ? 0 : 1);
        for (int64_t t = 0; t < g.K; ++t) {
          tab[(part * g.K + t) * Dp + d] = table[t * g.half];
          tabT[(part * Dp + d) * Kp + t] = table[t * g.half];
        }
      }
    }
  }
  const float* table(int64_t n, int col) const { return tab.data() + (n * 2 + col) * g.K * Dp; }
  const float* tableT(int64_t n, int col) const { return tabT.data() + (n * 2 + col) * Dp * Kp; }
};

/** Per-thread buffers of one (image, head), allocated once per call and reused. */
struct SmallHead {
  const SmallPlan& p;
  const Geometry& g;
  float *Q, *Kr, *KT, *V, *VT, *DY, *L, *dS, *rowL, *colL, *rowS, *colS, *O0, *O1, *O2;
  float *relR, *relC;  // dRel of this head: [K][Dp] each
  std::vector<float> store;

  SmallHead(const SmallPlan& plan, bool backward) : p(plan), g(plan.g) {
    const int64_t rows = p.S * p.Dp, cols = p.Dp * p.Sp, logits = p.S * p.Sp, rel = p.S * p.Kp;
    const int64_t rt = g.K * p.Dp;
    store.assign(5 * rows + 2 * cols + 2 * logits + 4 * rel + 2 * rt + (backward ? 2 * rows : 0), 0.0f);
    float* at = store.data();
    auto take = [&](int64_t n) {
      float* r = at;
      at += n;
      return r;
    };
    Q = take(rows), Kr = take(rows), V = take(rows), DY = take(rows), O0 = take(rows);
    O1 = backward ? take(rows) : nullptr, O2 = backward ? take(rows) : nullptr;
    KT = take(cols), VT = take(cols), L = take(logits), dS = take(logits);
    rowL = take(rel), colL = take(rel), rowS = take(rel), colS = take(rel);
    relR = take(rt), relC = take(rt);
  }

  /** Head n of image b of x (NHWC) × mul into rows [S][Dp] and/or transposed [Dp][Sp]. */
  void load(const float* x, int64_t b, int64_t n, float mul, float* rows, float* cols) const {
    const float* src = x + b * p.S * g.C + n * g.D;
    for (int64_t s = 0; s < p.S; ++s) {
      const float* in = src + s * g.C;
      if (rows) {
        int64_t d = 0;
        for (; d + VL <= g.D; d += VL) storeu(rows + s * p.Dp + d, loadu(in + d) * mul);
        for (; d < g.D; ++d) rows[s * p.Dp + d] = in[d] * mul;
      }
      if (cols) {
        for (int64_t d = 0; d < g.D; ++d) cols[d * p.Sp + s] = in[d] * mul;
      }
    }
  }

  /** Rows [S][Dp] × mul into head n of image b of x (NHWC). */
  void store_(const float* rows, float mul, float* x, int64_t b, int64_t n) const {
    float* dst = x + b * p.S * g.C + n * g.D;
    for (int64_t s = 0; s < p.S; ++s) {
      float* out = dst + s * g.C;
      int64_t d = 0;
      for (; d + VL <= g.D; d += VL) storeu(out + d, loadu(rows + s * p.Dp + d) * mul);
      for (; d < g.D; ++d) out[d] = rows[s * p.Dp + d] * mul;
    }
  }

  /**
   * Logits L[s][t] of head n from Q (scaled), KT, the tables: -inf for pixels t outside the
   * window of s (and for the padding lanes t >= S); rowL/colL[s][t] = q̂_s · relRow/relCol[t].
   */
  void logits(int64_t n) {
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    const int64_t S = p.S, Sp = p.Sp, Dp = p.Dp, Kp = p.Kp, K = g.K, W = g.W;
    if (g.useQR) {  // over the head's channels in the row half, then in the column half
      const int64_t lo = n * g.D, rows = std::max<int64_t>(0, std::min(lo + g.D, g.half) - lo);
      gemm(S, Q, Dp, 1, p.tableT(n, 0), Kp, rows, Kp, rowL, Kp);
      gemm(S, Q + rows, Dp, 1, p.tableT(n, 1) + rows * Kp, Kp, g.D - rows, Kp, colL, Kp);
    }
    if (g.useQK) {
      gemm(S, Q, Dp, 1, KT, Sp, g.D, Sp, L, Sp);
    } else {
      std::fill_n(L, S * Sp, 0.0f);
    }
    for (int64_t s = 0; s < S; ++s) {
      float* Ls = L + s * Sp;
      if (p.shuffled) {
        const vf r0 = loadu(rowL + s * Kp), r1 = Kp > VL ? loadu(rowL + s * Kp + VL) : r0;
        const vf c0 = loadu(colL + s * Kp), c1 = Kp > VL ? loadu(colL + s * Kp + VL) : c0;
        for (int64_t t0 = 0; t0 < Sp; t0 += VL) {
          vf l = loadu(Ls + t0) + loadu(p.mask.data() + s * Sp + t0);
          if (g.useQR) {
            vi ri, ci;
            std::memcpy(&ri, p.rowIdx.data() + s * Sp + t0, sizeof ri);
            std::memcpy(&ci, p.colIdx.data() + s * Sp + t0, sizeof ci);
            l += __builtin_shuffle(r0, r1, ri) + __builtin_shuffle(c0, c1, ci);
          }
          storeu(Ls + t0, l);
        }
        continue;
      }
      const int64_t sa = s / W, sb = s % W;
      const float* rl = rowL + s * Kp;
      const float* cl = colL + s * Kp + g.h - sb;  // cl[tb] = colL[s][tb - sb + h]
      for (int64_t ta = 0; ta < g.H; ++ta) {
        const int64_t da = ta - sa + g.h;
        float* row = Ls + ta * W;
        if (da < 0 || da >= K) {
          std::fill_n(row, W, ninf);
          continue;
        }
        const float r = rl[da];
        const int64_t lo = std::max<int64_t>(0, sb - g.h), hi = std::min(W, sb + g.h + 1);
        for (int64_t tb = 0; tb < lo; ++tb) row[tb] = ninf;
        for (int64_t tb = lo; tb < hi; ++tb) row[tb] += r + cl[tb];
        for (int64_t tb = hi; tb < W; ++tb) row[tb] = ninf;
      }
      for (int64_t t = S; t < Sp; ++t) Ls[t] = ninf;
    }
  }

  /**
   * 'zeros' padding: the window positions of pixel s outside the image have logit
   * rowL[da] + colL[db] (k = 0) and value 0. Their rows da are those outside [daLo, daHi), or
   * inside with columns db outside [dbLo, dbHi). Returns their largest logit (m) and sets
   * sums so that the sum of exp(logit - x) over them is e^(rowMax1 + colMax - x) · rs1 · cs +
   * e^(rowMax2 + colMaxOut - x) · rs2 · csOut, without exp of every pair.
   */
  struct Outside {
    float m, mr1, mc, mr2, mco;  // maxima (-inf for empty groups)
    float rs1, cs, rs2, cso;     // Σ exp(· - its max) of each group
    int64_t daLo, daHi, dbLo, dbHi;
    /** Σ exp(logit - x) over the outside positions. */
    float sum(float x) const {
      float r = 0.0f;
      if (mr1 > -INFINITY) r += std::exp(mr1 + mc - x) * rs1 * cs;
      if (mr2 > -INFINITY && mco > -INFINITY) r += std::exp(mr2 + mco - x) * rs2 * cso;
      return r;
    }
  };

  Outside outside(int64_t s) const {
    const int64_t K = g.K, sa = s / g.W, sb = s % g.W;
    Outside o{};
    o.daLo = std::max<int64_t>(0, g.h - sa), o.daHi = std::min(K, g.H - sa + g.h);
    o.dbLo = std::max<int64_t>(0, g.h - sb), o.dbHi = std::min(K, g.W - sb + g.h);
    const float* rl = rowL + s * p.Kp;
    const float* cl = colL + s * p.Kp;
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    o.mr1 = o.mr2 = o.mc = o.mco = ninf;
    for (int64_t t = 0; t < K; ++t) {
      const bool rowIn = t >= o.daLo && t < o.daHi, colIn = t >= o.dbLo && t < o.dbHi;
      (rowIn ? o.mr2 : o.mr1) = std::max(rowIn ? o.mr2 : o.mr1, rl[t]);
      o.mc = std::max(o.mc, cl[t]);
      if (!colIn) o.mco = std::max(o.mco, cl[t]);
    }
    o.rs1 = o.rs2 = o.cs = o.cso = 0.0f;
    for (int64_t t = 0; t < K; ++t) {
      const bool rowIn = t >= o.daLo && t < o.daHi, colIn = t >= o.dbLo && t < o.dbHi;
      if (rowIn) o.rs2 += std::exp(rl[t] - o.mr2);
      else o.rs1 += std::exp(rl[t] - o.mr1);
      const float e = std::exp(cl[t] - o.mc);
      o.cs += e;
      if (!colIn) o.cso += std::exp(cl[t] - o.mco);
    }
    o.m = std::max(o.mr1 + o.mc, o.mco > ninf ? o.mr2 + o.mco : ninf);
    return o;
  }

};

void smallForward(const Geometry& g, const float* q, const float* k, const float* v,
                  const float* relRow, const float* relCol, float* y, float* lse) {
  const SmallPlan plan(g, relRow, relCol);
  const int64_t S = plan.S, Sp = plan.Sp;
#pragma omp parallel
  {
    FlushDenormals ftz;
    SmallHead w(plan, false);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.B; ++b) {
      for (int64_t n = 0; n < g.N; ++n) {
        w.load(q, b, n, g.scale, w.Q, nullptr);
        if (g.useQK) w.load(k, b, n, 1.0f, nullptr, w.KT);
        w.load(v, b, n, 1.0f, w.V, nullptr);
        w.logits(n);
        for (int64_t s = 0; s < S; ++s) {
          float* Ls = w.L + s * Sp;
          vf mv = bcast(-std::numeric_limits<float>::infinity());
          for (int64_t t0 = 0; t0 < Sp; t0 += VL) mv = vmax(mv, loadu(Ls + t0));
          float m = laneMax(mv);
          SmallHead::Outside o{};
          if (!g.masked) {
            o = w.outside(s);
            m = std::max(m, o.m);
          }
          vf sv{};
          for (int64_t t0 = 0; t0 < Sp; t0 += VL) {
            const vf e = expNonPositive(loadu(Ls + t0) - m);
            storeu(Ls + t0, e);
            sv += e;
          }
          float sum = laneSum(sv);
          if (!g.masked) sum += o.sum(m);
          const vf inv = bcast(1.0f / sum);
          for (int64_t t0 = 0; t0 < Sp; t0 += VL) storeu(Ls + t0, loadu(Ls + t0) * inv);
          lse[(b * S + s) * g.N + n] = m + std::log(sum);
        }
        gemm(S, w.L, Sp, 1, w.V, plan.Dp, S, plan.Dp, w.O0, plan.Dp);
        w.store_(w.O0, 1.0f, y, b, n);
      }
    }
  }
}

void smallBackward(const Geometry& g, const float* dy, const float* q, const float* k,
                   const float* v, const float* relRow, const float* relCol, const float* lse,
                   Grads out, std::vector<double>& dRel) {
  const int threads = numThreads();
  const int64_t tableSize = g.useQR ? g.K * g.half : 0;
  dRel.assign(static_cast<size_t>(threads) * 2 * tableSize, 0.0);
  const SmallPlan plan(g, relRow, relCol);
  const int64_t S = plan.S, Sp = plan.Sp, Dp = plan.Dp, Kp = plan.Kp, K = g.K;
#pragma omp parallel num_threads(threads)
  {
    FlushDenormals ftz;
    SmallHead w(plan, true);
    double* accRow = dRel.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * tableSize;
    double* accCol = accRow + tableSize;
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.B; ++b) {
      for (int64_t n = 0; n < g.N; ++n) {
        w.load(q, b, n, g.scale, w.Q, nullptr);
        if (g.useQK) w.load(k, b, n, 1.0f, w.Kr, w.KT);
        w.load(v, b, n, 1.0f, nullptr, w.VT);
        w.load(dy, b, n, 1.0f, w.DY, nullptr);
        w.logits(n);
        gemm(S, w.DY, Dp, 1, w.VT, Sp, g.D, Sp, w.dS, Sp);  // dP[s][t] = dy_s · v_t
        for (int64_t s = 0; s < S; ++s) {
          float* P = w.L + s * Sp;
          float* dS = w.dS + s * Sp;
          const float l = lse[(b * S + s) * g.N + n];
          const vf lv = bcast(l);
          vf dv{};
          for (int64_t t0 = 0; t0 < Sp; t0 += VL) {
            const vf pv = expBelow(loadu(P + t0), lv);
            storeu(P + t0, pv);
            dv += pv * loadu(dS + t0);
          }
          const float delta = laneSum(dv);
          const vf deltaV = bcast(delta);
          for (int64_t t0 = 0; t0 < Sp; t0 += VL) storeu(dS + t0, loadu(P + t0) * (loadu(dS + t0) - deltaV));
          if (!g.useQR) continue;
          // Row and column sums of dS over the window: the gradients of rowL[s] and colL[s].
          float* rs = w.rowS + s * Kp;
          float* cs = w.colS + s * Kp;
          std::fill_n(rs, Kp, 0.0f);
          std::fill_n(cs, Kp, 0.0f);
          const int64_t sa = s / g.W, sb = s % g.W;
          const int64_t aLo = std::max<int64_t>(0, sa - g.h), aHi = std::min(g.H, sa + g.h + 1);
          const int64_t bLo = std::max<int64_t>(0, sb - g.h), bHi = std::min(g.W, sb + g.h + 1);
          for (int64_t ta = aLo; ta < aHi; ++ta) {
            const float* row = dS + ta * g.W;
            float r = 0.0f;
            for (int64_t tb = bLo; tb < bHi; ++tb) {
              r += row[tb];
              cs[tb - sb + g.h] += row[tb];
            }
            rs[ta - sa + g.h] += r;
          }
          if (!g.masked) {
            // Outside positions: dS = p · (0 - delta), p = exp(rowL[da] + colL[db] - lse).
            const SmallHead::Outside o = w.outside(s);
            const float* rl = w.rowL + s * Kp;
            const float* cl = w.colL + s * Kp;
            const float nd = -delta;
            for (int64_t t = 0; t < K; ++t) {
              const bool rowIn = t >= o.daLo && t < o.daHi, colIn = t >= o.dbLo && t < o.dbHi;
              if (!rowIn) rs[t] += nd * std::exp(rl[t] + o.mc - l) * o.cs;
              else if (o.mco > -INFINITY) rs[t] += nd * std::exp(rl[t] + o.mco - l) * o.cso;
              if (o.mr1 > -INFINITY) cs[t] += nd * std::exp(cl[t] + o.mr1 - l) * o.rs1;
              if (!colIn) cs[t] += nd * std::exp(cl[t] + o.mr2 - l) * o.rs2;
            }
          }
        }
        // dq = scale · (dS k + rowS relRow + colS relCol), dk = dSᵀ q̂, dv = Pᵀ dy,
        // dRelRow = rowSᵀ q̂ and dRelCol = colSᵀ q̂ (on the head's channels of each half).
        if (g.useQK) {
          gemm(S, w.dS, Sp, 1, w.Kr, Dp, S, Dp, w.O0, Dp);
        } else {
          std::fill_n(w.O0, S * Dp, 0.0f);
        }
        if (g.useQR) {
          gemm(S, w.rowS, Kp, 1, plan.table(n, 0), Dp, K, Dp, w.O0, Dp, true);
          gemm(S, w.colS, Kp, 1, plan.table(n, 1), Dp, K, Dp, w.O0, Dp, true);
          gemm(K, w.rowS, 1, Kp, w.Q, Dp, S, Dp, w.relR, Dp);
          gemm(K, w.colS, 1, Kp, w.Q, Dp, S, Dp, w.relC, Dp);
          for (int64_t d = 0; d < g.D; ++d) {
            const int64_t c = n * g.D + d;
            if (c < g.half) {
              for (int64_t t = 0; t < K; ++t) accRow[t * g.half + c] += w.relR[t * Dp + d];
            } else {
              for (int64_t t = 0; t < K; ++t) accCol[t * g.half + c - g.half] += w.relC[t * Dp + d];
            }
          }
        }
        w.store_(w.O0, g.scale, out.dq, b, n);
        if (g.useQK) {
          gemm(S, w.dS, 1, Sp, w.Q, Dp, S, Dp, w.O1, Dp);
          w.store_(w.O1, 1.0f, out.dk, b, n);
        }
        gemm(S, w.L, 1, Sp, w.DY, Dp, S, Dp, w.O2, Dp);
        w.store_(w.O2, 1.0f, out.dv, b, n);
      }
    }
  }
}

inline bool smallImages(const Geometry& g) { return g.H * g.W <= kSmallPixels; }

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
    if (smallImages(g)) {
      smallForward(g, q, k, v, relRow, relCol, y, lse);
    } else {
      dispatchWindow<ForwardRun>(g.K, g, q, k, v, relRow, relCol, y, lse);
    }
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
    Grads out{floatArg(info, 7, "dq", g.size()), floatArg(info, 8, "dk", g.useQK ? g.size() : 0),
              floatArg(info, 9, "dv", g.size())};
    float* dRelRow = floatArg(info, 10, "dRelRow", tableSize);
    float* dRelCol = floatArg(info, 11, "dRelCol", tableSize);
    std::vector<double> dRel;  // slices [dRelRow | dRelCol], per thread or per image
    if (smallImages(g)) {
      smallBackward(g, dy, q, k, v, relRow, relCol, lse, out, dRel);
    } else {
      dispatchWindow<BackwardRun>(g.K, g, dy, q, k, v, relRow, relCol, lse, out, dRel);
    }
    const int64_t slices = tableSize ? static_cast<int64_t>(dRel.size()) / (2 * tableSize) : 0;
    for (int64_t e = 0; e < tableSize; ++e) {
      double r = 0.0, c = 0.0;
      for (int64_t t = 0; t < slices; ++t) {
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
