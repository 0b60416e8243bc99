// The small-image path of the local attention kernels, shared with the fused attention stem
// (attention_stem.cc): per (image, head), dense attention among the S = H·W pixels.
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "attention_common.h"

namespace sasa {
namespace attention {

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

#if defined(__AVX512F__)
/**
 * v combined lane by lane with itself rotated by 8, 4, 2, 1 lanes (within halves, quarters, pairs):
 * lane 0 then holds the reduction of all 16, associated as _mm512_reduce_*_ps do (GCC 12 warns of
 * their undefined pass-through operand wherever they are inlined).
 */
template <typename Op>
inline float laneReduce(vf v, Op op) {
  v = op(v, __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  v = op(v, __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11));
  v = op(v, __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  v = op(v, __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14));
  return v[0];
}
#endif

/** The largest lane and the sum of the lanes (by halving). */
inline float laneMax(vf v) {
#if defined(__AVX512F__)
  return laneReduce(v, vmax);
#else
  float m = v[0];
  for (int64_t t = 1; t < VL; ++t) m = std::max(m, v[t]);
  return m;
#endif
}
inline float laneSum(vf v) {
#if defined(__AVX512F__)
  return laneReduce(v, [](vf a, vf b) { return a + b; });
#else
  return hsum(v);
#endif
}

/**
 * For R rows i and columns j < cols (a multiple of VL), the sums Σ_{x<n} A[i·as + x·ax] · B[x·bs + j]
 * started from init(r, j0) and handed a vector at a time to out(r, j0, sum): R independent accumulators
 * share each loaded vector of B.
 */
template <int R, typename Init, typename Out>
inline void gemmRowsTo(const float* A, int64_t as, int64_t ax, const float* B, int64_t bs, int64_t n, int64_t cols,
                       Init init, Out out) {
  for (int64_t j0 = 0; j0 < cols; j0 += VL) {
    vf acc[R];
    for (int r = 0; r < R; ++r) acc[r] = init(r, j0);
    for (int64_t x = 0; x < n; ++x) {
      const vf bv = loadu(B + x * bs + j0);
      for (int r = 0; r < R; ++r) acc[r] += bcast(A[r * as + x * ax]) * bv;
    }
    for (int r = 0; r < R; ++r) out(r, j0, acc[r]);
  }
}

/**
 * gemmRowsTo over `rows` rows in blocks of 8, 4, 2 and 1, each row's sums started from init(i, j0) and handed
 * to out(i, j0, sum) (i the row, j0 the vector's first column).
 */
template <typename Init, typename Out>
inline void gemmRows(int64_t rows, const float* A, int64_t as, int64_t ax, const float* B, int64_t bs, int64_t n,
                     int64_t cols, Init init, Out out) {
  int64_t i = 0;
  const auto block = [&](auto size) {
    constexpr int R = decltype(size)::value;
    const auto from = [&](int r, int64_t j0) { return init(i + r, j0); };
    const auto to = [&](int r, int64_t j0, vf v) { out(i + r, j0, v); };
    gemmRowsTo<R>(A + i * as, as, ax, B, bs, n, cols, from, to);
    i += R;
  };
  while (i + 8 <= rows) block(std::integral_constant<int, 8>{});
  if (i + 4 <= rows) block(std::integral_constant<int, 4>{});
  if (i + 2 <= rows) block(std::integral_constant<int, 2>{});
  if (i < rows) block(std::integral_constant<int, 1>{});
}

/**
 * O[i][j] = (O[i][j] if add) + Σ_{x<n} A[i·as + x·ax] · B[x·bs + j] for `rows` rows i and j < cols (a
 * multiple of VL).
 */
inline void gemm(int64_t rows, const float* A, int64_t as, int64_t ax, const float* B, int64_t bs,
                 int64_t n, int64_t cols, float* O, int64_t os, bool add = false) {
  const auto init = [&](int64_t i, int64_t j0) { return add ? loadu(O + i * os + j0) : vf{}; };
  const auto store = [&](int64_t i, int64_t j0, vf v) { storeu(O + i * os + j0, v); };
  gemmRows(rows, A, as, ax, B, bs, n, cols, init, store);
}

/** exp(x - lse) of a logit that cannot exceed lse (clamped against rounding). */
inline vf expBelow(vf x, vf lse) {
  const vf d = x - lse;
  return expNonPositive(d < 0.0f ? d : vf{});
}

/**
 * log(x) for normal x > 0 on a vector (Cephes' logf polynomial, ~1 ulp): x = m·2^e with
 * m in [√½, √2), log x = log m + e·log 2.
 */
inline vf logPositive(vf x) {
  vi bits;
  std::memcpy(&bits, &x, sizeof bits);
  vi e = ((bits >> 23) & 0xff) - 127;
  const vi mantissa = (bits & 0x007fffff) | 0x3f800000;
  vf m;
  std::memcpy(&m, &mantissa, sizeof m);
  const vi big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e -= big;  // big lanes are -1
  const vf f = m - 1.0f, z = f * f;
  vf y = splat(7.0376836292e-2f);
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z;
  const vf ef = __builtin_convertvector(e, vf);
  y += ef * -2.12194440e-4f;
  y -= 0.5f * z;
  return f + y + ef * 0.693359375f;
}

/**
 * Transposes the VL×VL matrix r[0..VL) in registers: log2(VL) rounds, each swapping the
 * off-diagonal h×h blocks of every 2h×2h block (h = VL/2, …, 1) with two-source shuffles. With n < VL
 * (a power of two), the rounds h < n over r[0..n): each n-lane group of r[0..n) transposed as an n×n matrix.
 */
inline void transposeSquare(vf* r, int64_t n = VL) {
  struct Masks {
    vi lo[8], hi[8];  // per round
    Masks() {
      int round = 0;
      for (int64_t h = VL / 2; h >= 1; h /= 2, ++round) {
        for (int64_t j = 0; j < VL; ++j) {
          const bool first = (j & h) == 0;
          lo[round][j] = static_cast<int32_t>(first ? j : VL + j - h);
          hi[round][j] = static_cast<int32_t>(first ? j + h : VL + j);
        }
      }
    }
  };
  static const Masks masks;
  int round = 0;
  for (int64_t h = VL / 2; h >= 1; h /= 2, ++round) {
    for (int64_t i = 0; i < n && h < n; ++i) {
      if (i & h) continue;
      const vf a = r[i], b = r[i + h];
      r[i] = __builtin_shuffle(a, b, masks.lo[round]);
      r[i + h] = __builtin_shuffle(a, b, masks.hi[round]);
    }
  }
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
  // Jp = H + W rounded up to whole vectors; sel [Sp][Jp]: 1 at (t, ta) and at (t, H + tb) for
  // pixel t = (ta, tb), so that dS · sel holds every row and column sum of dS at once.
  int64_t Jp;
  std::vector<float> sel;
  // When a row of dS is one vector and its H + W sums fit one (sumsByShuffle): sums[j] = lane
  // sumsIdx[j] of (row sums at lanes ta·W, column sums at lanes VL + tb) (rowColumnSums).
  bool sumsByShuffle;
  int32_t sumsIdx[VL] = {};
  // When also the tables' offsets fit one vector (shiftByShuffle): per pixel s, [S][VL], the lane of
  // its sums vector (dS · sel's row) that window row / column offset t takes, VL (a zero) outside.
  bool shiftByShuffle;
  std::vector<int32_t> rowShift, colShift;

  explicit SmallPlan(const Geometry& geometry, const float* relRow, const float* relCol)
      : g(geometry), S(geometry.H * geometry.W), Sp(roundUp(S, VL)), Dp(roundUp(geometry.D, VL)),
        Kp(roundUp(geometry.K, VL)), mask(S * Sp, -std::numeric_limits<float>::infinity()),
        rowIdx(S * Sp, 0), colIdx(S * Sp, 0), shuffled(Kp <= 2 * VL), Jp(roundUp(geometry.H + geometry.W, VL)),
        sel(Sp * Jp, 0.0f), sumsByShuffle(Sp == VL && Jp == VL), shiftByShuffle(sumsByShuffle && Kp == VL) {
    for (int64_t j = 0; j < g.H + g.W && j < VL; ++j) {
      sumsIdx[j] = static_cast<int32_t>(j < g.H ? j * g.W : VL + j - g.H);
    }
    if (shiftByShuffle) {
      rowShift.assign(S * VL, static_cast<int32_t>(VL));
      colShift.assign(S * VL, static_cast<int32_t>(VL));
      for (int64_t s = 0; s < S; ++s) {
        for (int64_t t = 0; t < geometry.K; ++t) {
          const int64_t ta = t + s / g.W - g.h, tb = t + s % g.W - g.h;
          if (ta >= 0 && ta < g.H) rowShift[s * VL + t] = static_cast<int32_t>(ta);
          if (tb >= 0 && tb < g.W) colShift[s * VL + t] = static_cast<int32_t>(g.H + tb);
        }
      }
    }
    for (int64_t t = 0; t < S; ++t) {
      sel[t * Jp + t / g.W] = 1.0f;
      sel[t * Jp + g.H + t % g.W] = 1.0f;
    }
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
  // L and dS have Sp rows: the forward may keep the softmax weights transposed there, [Sp][Sp].
  float *Q, *Kr, *KT, *V, *VT, *DY, *L, *dS, *rowL, *colL, *rowS, *colS, *O0, *O1, *O2;
  float *relR, *relC;  // dRel of this head: [K][Dp] each
  float *sums, *deltas;  // backward: dS · sel [S][Jp], and Σ_t P dP per pixel [S]
  float* rowMul;         // forward: 1 / Σ_t exp(L - max) per pixel [S]
  std::vector<float> store;

  SmallHead(const SmallPlan& plan, bool backward) : p(plan), g(plan.g) {
    const int64_t rows = p.S * p.Dp, cols = p.Dp * p.Sp, logits = p.Sp * p.Sp, rel = p.S * p.Kp;
    const int64_t rt = g.K * p.Dp;
    const int64_t extra = backward ? 2 * rows + p.S * p.Jp + p.S : 0;
    store.assign(5 * rows + 2 * cols + 2 * logits + 4 * rel + 2 * rt + extra + p.Sp, 0.0f);
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
    sums = backward ? take(p.S * p.Jp) : nullptr, deltas = backward ? take(p.S) : nullptr;
    rowMul = take(p.Sp);
  }

  /** The head's channel-major [D][Sp] slice of an image's channel-major tensor xT [C][Sp]. */
  const float* headOf(const float* xT, int64_t n) const { return xT + n * g.D * p.Sp; }

  /** Head n of image x (NHWC, pixel stride ld) × mul into rows [S][Dp] and/or transposed [Dp][Sp]. */
  void load(const float* x, int64_t ld, int64_t n, float mul, float* rows, float* cols) const {
    const float* src = x + n * g.D;
    for (int64_t s = 0; s < p.S; ++s) {
      const float* in = src + s * ld;
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

  /** Rows [S][Dp] × mul (× rowMuls[s] per row when given) into head n of image x (pixel stride ld). */
  void store_(const float* rows, float mul, float* x, int64_t ld, int64_t n, const float* rowMuls = nullptr) const {
    float* dst = x + n * g.D;
    for (int64_t s = 0; s < p.S; ++s) {
      float* out = dst + s * ld;
      const float m = rowMuls ? mul * rowMuls[s] : mul;
      int64_t d = 0;
      for (; d + VL <= g.D; d += VL) storeu(out + d, loadu(rows + s * p.Dp + d) * m);
      for (; d < g.D; ++d) out[d] = rows[s * p.Dp + d] * m;
    }
  }

  /**
   * Logits L[s][t] of head n from Q (scaled), the head's keys kt [D][Sp] (channel-major), the
   * tables: -inf for pixels t outside the window of s (and for the padding lanes t >= S);
   * rowL/colL[s][t] = q̂_s · relRow/relCol[t].
   */
  void logits(int64_t n, const float* kt) {
    const int64_t S = p.S, Sp = p.Sp, Dp = p.Dp, Kp = p.Kp;
    if (g.useQR) {  // over the head's channels in the row half, then in the column half
      const int64_t lo = n * g.D, rows = std::max<int64_t>(0, std::min(lo + g.D, g.half) - lo);
      gemm(S, Q, Dp, 1, p.tableT(n, 0), Kp, rows, Kp, rowL, Kp);
      gemm(S, Q + rows, Dp, 1, p.tableT(n, 1) + rows * Kp, Kp, g.D - rows, Kp, colL, Kp);
    }
    if (g.useQK) {
      gemm(S, Q, Dp, 1, kt, Sp, g.D, Sp, L, Sp);
    } else {
      std::fill_n(L, S * Sp, 0.0f);
    }
    finishLogits();
  }

  /**
   * The logits from the products in L ([S][Sp], q·k) and, with qr logits, rowL / colL ([S][Kp], q·r per
   * window row / column offset): L[s][t] += rowL[s][da] + colL[s][db] in the window of s, -inf outside it
   * (and for the padding lanes t >= S).
   */
  void finishLogits() {
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    const int64_t S = p.S, Sp = p.Sp, Kp = p.Kp, K = g.K, W = g.W;
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
   * Row s of dS · sel when it is one vector (p.sumsByShuffle): the row sums Σ_tb dS[s][ta·W + tb]
   * and column sums Σ_ta dS[s][ta·W + tb], each added in the order of t as the gemm with sel
   * adds them, by adding the row shifted by 1 … W-1 lanes and by W … (H-1)·W lanes.
   */
  void rowColumnSums(int64_t s) {
    vi iota;
    for (int64_t j = 0; j < VL; ++j) iota[j] = static_cast<int32_t>(j);
    const vf v = loadu(dS + s * p.Sp), zero{};
    vf rows = v, cols = v;
    for (int64_t k = 1; k < g.W; ++k) rows += __builtin_shuffle(v, zero, iota + static_cast<int32_t>(k));
    for (int64_t k = 1; k < g.H; ++k) cols += __builtin_shuffle(v, zero, iota + static_cast<int32_t>(k * g.W));
    vi idx;
    std::memcpy(&idx, p.sumsIdx, sizeof idx);
    storeu(sums + s * p.Jp, __builtin_shuffle(rows, cols, idx));
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

/** Asks for the n floats at p to be brought into cache (for writing when Write), a line at a time. */
template <bool Write = false>
inline void prefetch(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; i += 64 / sizeof(float)) __builtin_prefetch(p + i, Write ? 1 : 0, 3);
}

/**
 * smallHeadSoftmaxValues when a row of logits is one vector (masked, Sp = VL), from the logits transposed: lane s
 * of col[t] holds L[s][t] (zeros past S), so the softmax over t is elementwise across the columns (no
 * reductions within a vector). Leaves E[t][s] = e^(L[s][t] - max) in w.L.
 */
inline void smallHeadSoftmaxValuesT(SmallHead& w, int64_t n, const vf* col, float* y, float* lse) {
  const Geometry& g = w.g;
  const int64_t S = w.p.S, Sp = w.p.Sp;
  vf m = col[0];
  for (int64_t t = 1; t < VL; ++t) m = vmax(m, col[t]);
  vf sum{};
  for (int64_t t = 0; t < VL; ++t) {
    const vf e = expNonPositive(col[t] - m);
    storeu(w.L + t * Sp, e);  // transposed: E[t][s]
    sum += e;
  }
  storeu(w.rowMul, 1.0f / sum);
  const vf l = m + logPositive(sum);
  for (int64_t s = 0; s < S; ++s) lse[s * g.N + n] = l[s];
  gemm(S, w.L, 1, Sp, w.V, w.p.Dp, S, w.p.Dp, w.O0, w.p.Dp);
  w.store_(w.O0, 1.0f, y, g.C, n, w.rowMul);
}

/** smallHeadAttend after the logits: the softmax of w.L and its product with the V rows, into y and lse. */
inline void smallHeadSoftmaxValues(SmallHead& w, int64_t n, float* y, float* lse) {
  const Geometry& g = w.g;
  const int64_t S = w.p.S, Sp = w.p.Sp;
  if (g.masked && Sp == VL) {
    vf col[VL];
    for (int64_t s = 0; s < VL; ++s) col[s] = s < S ? loadu(w.L + s * Sp) : vf{};
    transposeSquare(col);
    smallHeadSoftmaxValuesT(w, n, col, y, lse);
    return;
  }
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
    w.rowMul[s] = 1.0f / sum;
    lse[s * g.N + n] = m + std::log(sum);
  }
  gemm(S, w.L, Sp, 1, w.V, w.p.Dp, S, w.p.Dp, w.O0, w.p.Dp);
  w.store_(w.O0, 1.0f, y, g.C, n, w.rowMul);
}

/**
 * The forward of head n of one image from its operands already in w: Q (scaled) and V rows
 * [S][Dp], keys kt channel-major [D][Sp] (zeros past S); writes the head's channels of y (the S
 * pixels, NHWC with C channels) and its lse ([S][N]), normalising the softmax at the end.
 */
inline void smallHeadAttend(SmallHead& w, int64_t n, const float* kt, float* y, float* lse) {
  w.logits(n, kt);
  smallHeadSoftmaxValues(w, n, y, lse);
}

/**
 * Forward of head n of one image: q, k, v, y its S pixels (NHWC; q, k, v with pixel stride
 * g.ld, y with C), lse its [S][N].
 * k is unused (may be null) without qk logits. kT: the image's keys already channel-major
 * [C][Sp] (zeros past S), or null to transpose them from k. The softmax is normalised at the end:
 * y_s = (Σ_t e^(L_st - m_s) v_t) / Σ_t e^(L_st - m_s).
 */
inline void smallHeadForward(SmallHead& w, const float* q, const float* k, const float* v, int64_t n,
                             float* y, float* lse, const float* kT = nullptr) {
  const Geometry& g = w.g;
  w.load(q, g.ld, n, g.scale, w.Q, nullptr);
  if (g.useQK && !kT) w.load(k, g.ld, n, 1.0f, nullptr, w.KT);
  w.load(v, g.ld, n, 1.0f, w.V, nullptr);
  smallHeadAttend(w, n, kT ? w.headOf(kT, n) : w.KT, y, lse);
}

/** smallHeadProbabilities after the logits: P = e^(L - lse) in place in w.L. */
inline void probabilitiesFromLogits(SmallHead& w, int64_t n, const float* lse) {
  const Geometry& g = w.g;
  const int64_t Sp = w.p.Sp;
  for (int64_t s = 0; s < w.p.S; ++s) {
    float* P = w.L + s * Sp;
    const vf lv = bcast(lse[s * g.N + n]);
    for (int64_t t0 = 0; t0 < Sp; t0 += VL) storeu(P + t0, expBelow(loadu(P + t0), lv));
  }
}

/**
 * The softmax weights of head n of one image, recomputed from the logits (Q scaled, keys kt
 * channel-major [D][Sp]) and the forward's lse: P[s][t] = e^(L[s][t] - lse_s) into w.L ([S][Sp]).
 */
inline void smallHeadProbabilities(SmallHead& w, int64_t n, const float* kt, const float* lse) {
  w.logits(n, kt);
  probabilitiesFromLogits(w, n, lse);
}

/** dv = Pᵀ dy into w.O2 (rows [S][Dp]) from the softmax weights in w.L and DY. */
inline void valueGradients(SmallHead& w) {
  gemm(w.p.S, w.L, 1, w.p.Sp, w.DY, w.p.Dp, w.p.S, w.p.Dp, w.O2, w.p.Dp);
}

/**
 * The logits' gradients of head n of one image from its softmax weights in w.L (smallHeadProbabilities),
 * DY rows [S][Dp] and values vt channel-major [D][Sp] (zeros past S): dS [S][Sp] = P ⊙ (dP - Σ_t P dP),
 * dP = dy vᵀ, and with qr logits rowS / colS [S][Kp], dS summed over each window row / column offset.
 */
inline void logitGradients(SmallHead& w, int64_t n, const float* vt, const float* lse) {
  const Geometry& g = w.g;
  const int64_t S = w.p.S, Sp = w.p.Sp, Dp = w.p.Dp, Kp = w.p.Kp, K = g.K;
  gemm(S, w.DY, Dp, 1, vt, Sp, g.D, Sp, w.dS, Sp);  // dP[s][t] = dy_s · v_t
  for (int64_t s = 0; s < S; ++s) {
    const float* P = w.L + s * Sp;
    float* dS = w.dS + s * Sp;
    vf dvs{};
    for (int64_t t0 = 0; t0 < Sp; t0 += VL) dvs += loadu(P + t0) * loadu(dS + t0);
    const float delta = laneSum(dvs);
    w.deltas[s] = delta;
    const vf deltaV = bcast(delta);
    for (int64_t t0 = 0; t0 < Sp; t0 += VL) storeu(dS + t0, loadu(P + t0) * (loadu(dS + t0) - deltaV));
  }
  if (g.useQR) {
    // The gradients of rowL[s] and colL[s]: the row and column sums of dS[s] (zero outside the
    // window), shifted to window offsets da = ta - sa + h, db = tb - sb + h.
    if (w.p.sumsByShuffle) {
      for (int64_t s = 0; s < S; ++s) w.rowColumnSums(s);
    } else {
      gemm(S, w.dS, Sp, 1, w.p.sel.data(), w.p.Jp, S, w.p.Jp, w.sums, w.p.Jp);
    }
    for (int64_t s = 0; s < S; ++s) {
      float* rs = w.rowS + s * Kp;
      float* cs = w.colS + s * Kp;
      const float* sums = w.sums + s * w.p.Jp;
      if (w.p.shiftByShuffle) {
        vi ri, ci;
        std::memcpy(&ri, w.p.rowShift.data() + s * VL, sizeof ri);
        std::memcpy(&ci, w.p.colShift.data() + s * VL, sizeof ci);
        const vf v = loadu(sums);
        storeu(rs, __builtin_shuffle(v, vf{}, ri));
        storeu(cs, __builtin_shuffle(v, vf{}, ci));
      } else {
        std::fill_n(rs, Kp, 0.0f);
        std::fill_n(cs, Kp, 0.0f);
        const int64_t sa = s / g.W, sb = s % g.W;
        const int64_t aLo = std::max<int64_t>(0, sa - g.h), aHi = std::min(g.H, sa + g.h + 1);
        const int64_t bLo = std::max<int64_t>(0, sb - g.h), bHi = std::min(g.W, sb + g.h + 1);
        for (int64_t ta = aLo; ta < aHi; ++ta) rs[ta - sa + g.h] = sums[ta];
        for (int64_t tb = bLo; tb < bHi; ++tb) cs[tb - sb + g.h] = sums[g.H + tb];
      }
      if (g.masked) continue;
      // Outside positions: dS = p · (0 - delta), p = exp(rowL[da] + colL[db] - lse).
      const float l = lse[s * g.N + n];
      const SmallHead::Outside o = w.outside(s);
      const float* rl = w.rowL + s * Kp;
      const float* cl = w.colL + s * Kp;
      const float nd = -w.deltas[s];
      for (int64_t t = 0; t < K; ++t) {
        const bool rowIn = t >= o.daLo && t < o.daHi, colIn = t >= o.dbLo && t < o.dbHi;
        if (!rowIn) rs[t] += nd * std::exp(rl[t] + o.mc - l) * o.cs;
        else if (o.mco > -INFINITY) rs[t] += nd * std::exp(rl[t] + o.mco - l) * o.cso;
        if (o.mr1 > -INFINITY) cs[t] += nd * std::exp(cl[t] + o.mr1 - l) * o.rs1;
        if (!colIn) cs[t] += nd * std::exp(cl[t] + o.mr2 - l) * o.rs2;
      }
    }
  }
}

/**
 * The gradients of head n from logitGradients' dS, rowS, colS, the softmax weights in w.L and the operands
 * Q (scaled), Kr (with qk logits) and DY rows: leaves dq / scale in w.O0, dk in w.O1 (with qk logits) and
 * dv in w.O2, rows [S][Dp], and adds the head's table gradients to accRow and accCol ([K][C/2] each):
 *   dq = scale · (dS k + rowS relRow + colS relCol), dk = dSᵀ q̂, dv = Pᵀ dy,
 *   dRelRow = rowSᵀ q̂ and dRelCol = colSᵀ q̂ (on the head's channels of each half).
 */
inline void operandGradients(SmallHead& w, int64_t n, double* accRow, double* accCol) {
  const Geometry& g = w.g;
  const int64_t S = w.p.S, Sp = w.p.Sp, Dp = w.p.Dp, Kp = w.p.Kp, K = g.K;
  if (g.useQK) {
    gemm(S, w.dS, Sp, 1, w.Kr, Dp, S, Dp, w.O0, Dp);
  } else {
    std::fill_n(w.O0, S * Dp, 0.0f);
  }
  if (g.useQR) {
    // A head wholly in one half has a zero table in the other: its products are skipped.
    const int64_t lo = n * g.D, inRow = std::max<int64_t>(0, std::min(lo + g.D, g.half) - lo);
    if (inRow > 0) {
      gemm(S, w.rowS, Kp, 1, w.p.table(n, 0), Dp, K, Dp, w.O0, Dp, true);
      gemm(K, w.rowS, 1, Kp, w.Q, Dp, S, Dp, w.relR, Dp);
    }
    if (inRow < g.D) {
      gemm(S, w.colS, Kp, 1, w.p.table(n, 1), Dp, K, Dp, w.O0, Dp, true);
      gemm(K, w.colS, 1, Kp, w.Q, Dp, S, Dp, w.relC, Dp);
    }
    // Channels d < inRow are the row half's (c = lo + d), the rest the column half's (c - half).
    for (int64_t t = 0; t < K; ++t) {
      double *row = accRow + t * g.half, *col = accCol + t * g.half;
      const float *rr = w.relR + t * Dp, *rc = w.relC + t * Dp;
      for (int64_t d = 0; d < inRow; ++d) row[lo + d] += rr[d];
      for (int64_t d = inRow; d < g.D; ++d) col[lo + d - g.half] += rc[d];
    }
  }
  if (g.useQK) gemm(S, w.dS, 1, Sp, w.Q, Dp, S, Dp, w.O1, Dp);
  valueGradients(w);
}

/**
 * The gradients of head n of one image from its softmax weights in w.L (smallHeadProbabilities) and
 * the operands already in w (logitGradients', then operandGradients').
 */
inline void smallHeadGradientsFromP(SmallHead& w, int64_t n, const float* vt, const float* lse, double* accRow,
                                    double* accCol) {
  logitGradients(w, n, vt, lse);
  operandGradients(w, n, accRow, accCol);
}

/** smallHeadProbabilities, then smallHeadGradientsFromP: the head's gradients from its operands in w. */
inline void smallHeadGradients(SmallHead& w, int64_t n, const float* kt, const float* vt, const float* lse,
                               double* accRow, double* accCol) {
  smallHeadProbabilities(w, n, kt, lse);
  smallHeadGradientsFromP(w, n, vt, lse, accRow, accCol);
}

/**
 * Backward of head n of one image (pointers as smallHeadForward's, dy/dq/dk/dv likewise): writes
 * the head's channels of dq, dk (with qk logits) and dv, and adds its table gradients to accRow
 * and accCol ([K][C/2] each). kT, vT: keys and values already channel-major [C][Sp], or null.
 */
inline void smallHeadBackward(SmallHead& w, const float* dy, const float* q, const float* k, const float* v,
                              const float* lse, int64_t n, float* dq, float* dk, float* dv, double* accRow,
                              double* accCol, const float* kT = nullptr, const float* vT = nullptr) {
  const Geometry& g = w.g;
  w.load(q, g.ld, n, g.scale, w.Q, nullptr);
  if (g.useQK) w.load(k, g.ld, n, 1.0f, w.Kr, kT ? nullptr : w.KT);
  if (!vT) w.load(v, g.ld, n, 1.0f, nullptr, w.VT);
  w.load(dy, g.C, n, 1.0f, w.DY, nullptr);
  smallHeadGradients(w, n, kT ? w.headOf(kT, n) : w.KT, vT ? w.headOf(vT, n) : w.VT, lse, accRow, accCol);
  w.store_(w.O0, g.scale, dq, g.ld, n);
  if (g.useQK) w.store_(w.O1, 1.0f, dk, g.ld, n);
  w.store_(w.O2, 1.0f, dv, g.ld, n);
}

}  // namespace attention
}  // namespace sasa
