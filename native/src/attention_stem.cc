// The attention of the attention stem (SASA.md §2) with its projections fused in, forward and
// backward. The input is the image cut into n blocks of s×s pixels, x [n][S = s²][d_in]; per block
//   q_p = x_p Wq,  k_p = x_p Wk,  v_p = x_p Wv[p] (Wv [P][d_in][F], P = 1 or S: a matrix per
//   position in the block, the stem's spatially-aware values),
// then every pixel attends to the S pixels of its block (local attention with k = 2s-1, 'masked'),
// run by the small-image path of the local attention kernels (small_attention.h) head by head.
// q, k and v never reach memory: the stem's input has 3 channels and its output 64, so
// materialising them tripled the bytes the stem moves. Nor do they fill block-sized buffers: each
// head's q (scaled), v rows and k channel-major are projected from x straight into the
// small-attention buffers (projectHead; smallHeadAttend), which keeps a thread's working
// set within L1 and saves copying them there. The backward pass likewise recomputes the head's q,
// k rows and k, v channel-major (projectHead), takes the head's dq, dk, dv from smallHeadGradients
// and adds x_pᵀ dq_p, x_pᵀ dk_p (summed over the block's pixels first), x_pᵀ dv_p on the head's
// channels to dWq, dWk, dWv (per thread, in float over 64 blocks, then in double); no block-sized
// q/k/v/dq/dk/dv buffers, no copies between them. dx, which
// the stem never needs (its input is the image), only when asked (then dq, dk, dv of the block are
// kept for it).
// With fewer input channels than channels a head (the paper's stem: 3 against 16), neither pass
// forms q or k at all: the logits are (x M) xᵀ + x R and the gradients of Wq, Wk and the tables come
// from per-block sums xᵀ dS x, xᵀ rowS, xᵀ colS (stem_low_rank.h): d_in/D of those products. At the paper's
// shape (4×4 blocks, 16 channels a head, 16 lanes, d_in ≤ 4) the forward's logits and the training backward
// run each head with the block's pixels in the lanes of a vector (stem_low_rank.h PixelLanes).
#include <omp.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <vector>

#include "attention_common.h"
#include "batch_norm_stats.h"
#include "common.h"
#include "simd.h"
#include "small_attention.h"
#include "stem_low_rank.h"

namespace sasa {
namespace {

using namespace attention;

/** The stem's sizes: n blocks of S = s² pixels, d_in input and F output channels, P value matrices. */
struct Stem {
  int64_t n, s, S, dIn, F, P;
  Geometry g;  // the attention within a block: B = n, H = W = s, C = F, k = 2s - 1, masked

  /**
   * From the JS object { blocks, side, inputChannels, filters, heads, positions, relative, scale }
   * (src/backend/kernels/attention_stem.ts geometryArg).
   */
  static Stem from(const Napi::Object& o) {
    const char* what = "geometry";
    Stem st{};
    st.n = intField(o, what, "blocks"), st.s = intField(o, what, "side");
    st.dIn = intField(o, what, "inputChannels"), st.F = intField(o, what, "filters");
    st.P = intField(o, what, "positions");
    st.S = st.s * st.s;
    if (st.n < 1 || st.s < 1 || st.dIn < 1 || st.F < 1 || (st.P != 1 && st.P != st.S) ||
        st.S > kSmallPixels) {
      fail("stemAttention", "invalid geometry");
    }
    const int64_t heads = intField(o, what, "heads");
    const bool relative = boolField(o, what, "relative");
    st.g = Geometry::make(st.n, st.s, st.s, st.F, 2 * st.s - 1, heads, true, true, relative,
                          numField(o, what, "scale"));
    return st;
  }
  int64_t block() const { return S * F; }
  /** The floats from one pixel's value matrix to the next's in Wv [P][d_in][F]: 0 with one matrix. */
  int64_t valueStride() const { return P == 1 ? 0 : dIn * F; }
};

/** The projection weights: wq, wk [d_in][F], wv [P][d_in][F], and wv as wvT [d_in][F][S] when P = S. */
struct Weights {
  const float *wq, *wk, *wv;
  std::vector<float> wvT;
  Weights(const Stem& st, const float* q, const float* k, const float* v) : wq(q), wk(k), wv(v) {
    if (st.P == 1) return;
    wvT.resize(st.dIn * st.F * st.S);
    for (int64_t p = 0; p < st.S; ++p)
      for (int64_t i = 0; i < st.dIn; ++i)
        for (int64_t c = 0; c < st.F; ++c) wvT[(i * st.F + c) * st.S + p] = v[(p * st.dIn + i) * st.F + c];
  }
};

/** The block's x channel-major, xT [d_in][S]. */
void transposeInput(const Stem& st, const float* x, float* xT) {
  for (int64_t p = 0; p < st.S; ++p)
    for (int64_t i = 0; i < st.dIn; ++i) xT[i * st.S + p] = x[p * st.dIn + i];
}

/**
 * Head n's channels c = nD + d of x w: out[p][d] = mul · Σ_i x[p][i] · w[p·pStride + i·F + c]
 * (pStride 0: one matrix for all pixels), rows [S][Dp].
 */
void projectHeadRows(const Stem& st, const float* x, const float* w, int64_t pStride, int64_t n, float mul,
                     int64_t Dp, float* out) {
  const int64_t F = st.F, D = st.g.D, lo = n * D;
  int64_t p = 0;
  if (D % VL == 0) {
    // Eight pixels at a time: eight independent sums over i (one sum's FMAs form a dependent chain).
    for (; p + 8 <= st.S; p += 8) {
      for (int64_t d0 = 0; d0 < D; d0 += VL) {
        vf acc[8] = {};
        for (int64_t i = 0; i < st.dIn; ++i) {
          for (int r = 0; r < 8; ++r) {
            acc[r] += x[(p + r) * st.dIn + i] * loadu(w + (p + r) * pStride + lo + i * F + d0);
          }
        }
        for (int r = 0; r < 8; ++r) storeu(out + (p + r) * Dp + d0, acc[r] * mul);
      }
    }
  }
  for (; p < st.S; ++p) {
    float* o = out + p * Dp;
    const float* wp = w + p * pStride + lo;
    if (D % VL == 0) {
      for (int64_t d0 = 0; d0 < D; d0 += VL) {
        vf acc{};
        for (int64_t i = 0; i < st.dIn; ++i) acc += x[p * st.dIn + i] * loadu(wp + i * F + d0);
        storeu(o + d0, acc * mul);
      }
      continue;
    }
    for (int64_t d = 0; d < D; ++d) {
      float acc = 0.0f;
      for (int64_t i = 0; i < st.dIn; ++i) acc += x[p * st.dIn + i] * wp[i * F + d];
      o[d] = acc * mul;
    }
  }
}

/**
 * Head n's channels of x w channel-major, out[d][p] = Σ_i xT[i][p] · w[i][c] (or wT[i][c][p], a
 * matrix per pixel), [D][S], from xT [d_in][S] (S a whole number of vectors).
 */
void projectHeadT(const Stem& st, const float* xT, const float* w, const float* wT, int64_t n, float* out) {
  const int64_t lo = n * st.g.D;
  int64_t d = 0;
  if (st.S == VL) {
    // Eight channels at a time: eight independent sums over i.
    for (; d + 8 <= st.g.D; d += 8) {
      vf acc[8] = {};
      for (int64_t i = 0; i < st.dIn; ++i) {
        const vf xi = loadu(xT + i * st.S);
        for (int r = 0; r < 8; ++r) {
          const int64_t c = lo + d + r;
          acc[r] += wT ? loadu(wT + (i * st.F + c) * st.S) * xi : w[i * st.F + c] * xi;
        }
      }
      for (int r = 0; r < 8; ++r) storeu(out + (d + r) * st.S, acc[r]);
    }
  }
  for (; d < st.g.D; ++d) {
    const int64_t c = lo + d;
    for (int64_t p0 = 0; p0 < st.S; p0 += VL) {
      vf acc{};
      for (int64_t i = 0; i < st.dIn; ++i) {
        const vf xi = loadu(xT + i * st.S + p0);
        acc += wT ? loadu(wT + (i * st.F + c) * st.S + p0) * xi : w[i * st.F + c] * xi;
      }
      storeu(out + d * st.S + p0, acc);
    }
  }
}

/** cols[d][s] = rows[s][d] for the head's D channels and S pixels (rows [S][Dp], cols [Dp][Sp]). */
void transposeHead(const SmallHead& h, const float* rows, float* cols) {
  for (int64_t s = 0; s < h.p.S; ++s)
    for (int64_t d = 0; d < h.g.D; ++d) cols[d * h.p.Sp + s] = rows[s * h.p.Dp + d];
}

/**
 * Head n's operands of one block straight into h's buffers: Q = scale · x Wq (rows [S][Dp]), the keys
 * channel-major KT = (x Wk)ᵀ ([Dp][Sp]) and, for the backward, also as rows Kr; the values as rows V
 * = x Wv[p] (forward) or channel-major VT = (x Wv[p])ᵀ (backward). xT: the block's x channel-major
 * when S is a whole number of vectors, else null (KT and VT are then transposed from rows).
 */
void projectHead(const Stem& st, const float* x, const float* xT, const Weights& w, int64_t n, bool backward,
                 SmallHead& h) {
  const int64_t Dp = h.p.Dp, valueStride = st.valueStride();
  projectHeadRows(st, x, w.wq, 0, n, static_cast<float>(st.g.scale), Dp, h.Q);
  if (backward || !xT) projectHeadRows(st, x, w.wk, 0, n, 1.0f, Dp, h.Kr);
  if (xT) {
    projectHeadT(st, xT, w.wk, nullptr, n, h.KT);
  } else {
    transposeHead(h, h.Kr, h.KT);
  }
  if (backward && xT) {
    projectHeadT(st, xT, w.wv, st.P == 1 ? nullptr : w.wvT.data(), n, h.VT);
    return;
  }
  projectHeadRows(st, x, w.wv, valueStride, n, 1.0f, Dp, h.V);
  if (backward) transposeHead(h, h.V, h.VT);
}

/** The stem's M and R (stem_low_rank.h) when it computes its logits through them, else none. */
std::optional<LowRankPlan> lowRankPlan(const Stem& st, const SmallPlan& plan, const Weights& w, const float* relRow,
                                       const float* relCol) {
  if (!lowRank(st.dIn, st.g)) return std::nullopt;
  return std::optional<LowRankPlan>(std::in_place, plan, st.dIn, w.wq, w.wk, relRow, relCol);
}

/** A thread's buffers for a forward pass: the small-attention head, x channel-major (or the low-rank block). */
struct ForwardWork {
  SmallHead w;
  std::vector<float> xT;
  std::optional<LowRankBlock> low;   // with a low-rank plan
  std::optional<PixelLanes> lanes;   // with a low-rank plan that PixelLanes fits
  ForwardWork(const Stem& st, const SmallPlan& plan, const std::optional<LowRankPlan>& lr)
      : w(plan, false), xT(lr ? 0 : st.dIn * st.S) {
    if (lr) low.emplace(*lr);
    if (lr && PixelLanes::fits(*lr)) lanes.emplace(*lr);
  }
};

/** Block b's attention, every head, into yb (the block's y, [S][F]) and its lse. */
void attendBlock(const Stem& st, const float* x, const Weights& weights, ForwardWork& fw, int64_t b, float* yb,
                 float* lse) {
  const float* xb = x + b * st.S * st.dIn;
  float* lseb = lse + b * st.S * st.g.N;
  SmallHead& w = fw.w;
  if (fw.low) {
    fw.low->load(xb);
    for (int64_t h = 0; h < st.g.N; ++h) {
      if (fw.lanes) {
        fw.lanes->values(xb, HeadValues{weights.wv + h * st.g.D, nullptr, st.valueStride(), st.F}, w.V);
        vf logitsT[VL];
        fw.lanes->logits(*fw.low, h, xb, logitsT);
        smallHeadSoftmaxValuesT(w, h, logitsT, yb, lseb);
        continue;
      }
      projectHeadRows(st, xb, weights.wv, st.valueStride(), h, 1.0f, w.p.Dp, w.V);
      fw.low->logits(w, h, xb);
      smallHeadSoftmaxValues(w, h, yb, lseb);
    }
    return;
  }
  const bool channelMajor = st.S % VL == 0;
  if (channelMajor) transposeInput(st, xb, fw.xT.data());
  for (int64_t h = 0; h < st.g.N; ++h) {
    projectHead(st, xb, channelMajor ? fw.xT.data() : nullptr, weights, h, false, w);
    smallHeadAttend(w, h, w.KT, yb, lseb);
  }
}

void stemForward(const Stem& st, const float* x, const Weights& weights, const float* relRow, const float* relCol,
                 float* y, float* lse) {
  const SmallPlan plan(st.g, relRow, relCol);
  const std::optional<LowRankPlan> lr = lowRankPlan(st, plan, weights, relRow, relCol);
#pragma omp parallel
  {
    FlushDenormals ftz;
    ForwardWork fw(st, plan, lr);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < st.n; ++b) {
      if (b + 1 < st.n) prefetch<true>(y + (b + 1) * st.block(), st.block());
      attendBlock(st, x, weights, fw, b, y + b * st.block(), lse);
    }
  }
}

/**
 * The batch norm after the stem's attention and the max over each block, fused (training): the
 * batch norm's parameters and the per-block extremes that the backward needs.
 */
struct BlockMax {
  const float *gamma, *beta;
  float eps;
  float* extreme;   // [n][F]: y at argmax
  int32_t* argmax;  // [n][F]: the pixel of the block whose normalised y is largest
};

/**
 * The direction of each channel's extreme, dir [F]: +1 where gamma > 0 (the largest y normalises largest), -1
 * where gamma < 0 (the smallest), 0 where gamma is 0 or NaN (every pixel normalises to beta: pixel 0).
 */
std::vector<float> extremeDirections(const float* gamma, int64_t F) {
  std::vector<float> dir(F);
  for (int64_t c = 0; c < F; ++c) dir[c] = gamma[c] > 0.0f ? 1.0f : gamma[c] < 0.0f ? -1.0f : 0.0f;
  return dir;
}

/**
 * Per channel c of a block's y [S][F]: the pixel whose normalised value y·a + b (a = gamma/σ) is largest,
 * the first one on ties — the first with the largest y·dir[c] (extremeDirections; exact, dir is ±1 or 0).
 * Found before the statistics (a is not known yet), so two values whose normalised floats round equal count
 * as a tie only for the unfused kernel.
 */
void blockExtremes(const Stem& st, const float* yb, const float* dir, float* extreme, int32_t* argmax) {
  const int64_t F = st.F;
  int64_t c0 = 0;
  for (; c0 + VL <= F; c0 += VL) {
    const vf d = loadu(dir + c0);
    vf best = loadu(yb + c0), key = best * d;
    vi arg{};
    for (int64_t s = 1; s < st.S; ++s) {
      const vf v = loadu(yb + s * F + c0), vk = v * d;
      const vi more = vk > key;
      best = more ? v : best;
      key = more ? vk : key;
      arg = more ? static_cast<int32_t>(s) : arg;
    }
    storeu(extreme + c0, best);
    std::memcpy(argmax + c0, &arg, sizeof arg);
  }
  for (int64_t c = c0; c < F; ++c) {
    float best = yb[c];
    int32_t arg = 0;
    for (int64_t s = 1; s < st.S; ++s) {
      if (yb[s * F + c] * dir[c] > best * dir[c]) best = yb[s * F + c], arg = static_cast<int32_t>(s);
    }
    extreme[c] = best;
    argmax[c] = arg;
  }
}

/**
 * The stem's attention, its batch norm (batch statistics over all n·S pixels) and the max over each
 * block, without y: out [n][F] = max_s (y[b][s]·a + b) as bnBlockMaxForward computes it from y, the
 * same statistics to the bit (the chunked sums of batch_norm_stats.h, shifted by y's first pixel), and
 * the extremes. Blocks go in groups whose pixels fill whole chunks of kChunkRows, each group's y in a
 * per-thread buffer (16 KB at 4×4, F 64) that the extremes and the chunk sums read while it is in L1.
 */
void stemForwardBlockMax(const Stem& st, const float* x, const Weights& weights, const float* relRow,
                         const float* relCol, const BlockMax& bm, float* out, float* mean, float* var, float* lse) {
  const int64_t S = st.S, F = st.F, rows = st.n * S;
  const int64_t groupBlocks = bn::kChunkRows / std::gcd(S, bn::kChunkRows);
  const int64_t groups = (st.n + groupBlocks - 1) / groupBlocks;
  const int64_t chunks = (rows + bn::kChunkRows - 1) / bn::kChunkRows;
  bn::ChunkSums partial(static_cast<size_t>(chunks) * 2 * F);
  std::vector<float> shift(F);  // y's first pixel, the sums' shift (as batchStats shifts by x's first row)
  const SmallPlan plan(st.g, relRow, relCol);
  const std::optional<LowRankPlan> lr = lowRankPlan(st, plan, weights, relRow, relCol);
  const std::vector<float> dir = extremeDirections(bm.gamma, F);
#pragma omp parallel
  {
    FlushDenormals ftz;
    ForwardWork fw(st, plan, lr);
    std::vector<float> yg(groupBlocks * S * F), f1(F), f2(F);
#pragma omp single
    {
      attendBlock(st, x, weights, fw, 0, yg.data(), lse);
      std::copy_n(yg.data(), F, shift.data());
    }
#pragma omp for schedule(static)
    for (int64_t k = 0; k < groups; ++k) {
      const int64_t b0 = k * groupBlocks, b1 = std::min(st.n, b0 + groupBlocks);
      for (int64_t b = b0; b < b1; ++b) {
        float* yb = yg.data() + (b - b0) * S * F;
        attendBlock(st, x, weights, fw, b, yb, lse);
        blockExtremes(st, yb, dir.data(), bm.extreme + b * F, bm.argmax + b * F);
      }
      const int64_t r0 = b0 * S, r1 = b1 * S;
      const auto row = [&](int64_t r, const float*& a, const float*& b) { a = b = yg.data() + (r - r0) * F; };
      for (int64_t c0 = r0; c0 < r1; c0 += bn::kChunkRows) {
        const int64_t chunk = c0 / bn::kChunkRows;
        bn::chunkSums(chunk, std::min(r1, c0 + bn::kChunkRows), F, row, shift.data(), shift.data(), f1.data(),
                      f2.data(), partial.data() + chunk * 2 * F);
      }
    }
  }
  std::vector<double> s1, s2;
  bn::addChunks(partial, F, s1, s2);
  std::vector<float> a, b;
  bn::statsFromSums(s1, s2, shift.data(), rows, bm.gamma, bm.beta, bm.eps, mean, var, a, b);
  const std::vector<float> pk = bn::unfoldNonFinite(a, b, mean, bm.beta);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < st.n; ++i) {
#pragma omp simd
    for (int64_t c = 0; c < F; ++c) out[i * F + c] = (bm.extreme[i * F + c] - pk[c]) * a[c] + b[c];
  }
}

/**
 * Weight gradients of one thread: dWq, dWk [d_in][F], dWv [P][d_in][F] as BlockSums (float over up to 64
 * blocks, then double); dRelRow, dRelCol in double.
 */
struct Accumulators {
  BlockSums weights;  // [dWq | dWk | dWv]
  std::vector<double> rel;
  int64_t matrix;  // d_in · F: the floats of dWq, of dWk, and of each of dWv's P matrices
  Accumulators(const Stem& st, int64_t tableSize)
      : weights(static_cast<size_t>((2 + st.P) * st.dIn * st.F)), rel(2 * tableSize, 0.0), matrix(st.dIn * st.F) {}

  /** dWv's sums since the last flush, [P][d_in][F]. */
  float* valueSums() { return weights.part.data() + 2 * matrix; }

  /**
   * Adds x_pᵀ dq_p, x_pᵀ dk_p and x_pᵀ dv_p over the block's pixels on head n's channels, from
   * h.O0 (dq / scale), h.O1 (dk) and h.O2 (dv) (smallHeadGradients'); x_pᵀ dv_p alone unless queryKey.
   */
  void addHead(const Stem& st, const float* x, const SmallHead& h, int64_t n, bool queryKey = true) {
    const int64_t F = st.F, D = st.g.D, Dp = h.p.Dp;
    const float scale = static_cast<float>(st.g.scale);
    float *wq = weights.part.data() + n * D, *wk = wq + matrix;
    if (D % VL == 0) return addHeadVectors(st, x, h, wq, wk, scale, queryKey);
    for (int64_t p = 0; p < st.S; ++p) {
      float* wv = wk + matrix + p * st.valueStride();
      const float *dq = h.O0 + p * Dp, *dk = h.O1 + p * Dp, *dv = h.O2 + p * Dp;
      for (int64_t i = 0; i < st.dIn; ++i) {
        const float xi = x[p * st.dIn + i];
        float *aq = wq + i * F, *ak = wk + i * F, *av = wv + i * F;
        int64_t d = 0;
        for (; d + VL <= D; d += VL) {
          if (queryKey) {
            storeu(aq + d, loadu(aq + d) + xi * (loadu(dq + d) * scale));
            storeu(ak + d, loadu(ak + d) + xi * loadu(dk + d));
          }
          storeu(av + d, loadu(av + d) + xi * loadu(dv + d));
        }
        for (; d < D; ++d) {
          if (queryKey) {
            aq[d] += xi * (dq[d] * scale);
            ak[d] += xi * dk[d];
          }
          av[d] += xi * dv[d];
        }
      }
    }
  }

  /**
   * addHead when D is whole vectors: Σ_p x[p][i] dq_p and Σ_p x[p][i] dk_p summed in registers over the
   * block's pixels before they are added to wq, wk ([d_in][F] at the head's channels); dv as addHead.
   */
  void addHeadVectors(const Stem& st, const float* x, const SmallHead& h, float* wq, float* wk, float scale,
                      bool queryKey) {
    const int64_t F = st.F, Dp = h.p.Dp, valueStride = st.valueStride();
    float* wv = wk + matrix;
    for (int64_t d = 0; d < st.g.D; d += VL) {
      for (int64_t i = 0; i < st.dIn; ++i) {
        vf sq{}, sk{};
        for (int64_t p = 0; p < st.S; ++p) {
          const float xi = x[p * st.dIn + i];
          if (queryKey) {
            sq += xi * loadu(h.O0 + p * Dp + d);
            sk += xi * loadu(h.O1 + p * Dp + d);
          }
          float* av = wv + p * valueStride + i * F + d;
          storeu(av, loadu(av) + xi * loadu(h.O2 + p * Dp + d));
        }
        if (!queryKey) continue;
        storeu(wq + i * F + d, loadu(wq + i * F + d) + sq * scale);
        storeu(wk + i * F + d, loadu(wk + i * F + d) + sk);
      }
    }
  }
};

/** dx_p = dq_p Wqᵀ + dk_p Wkᵀ + dv_p Wv[p]ᵀ for the block's pixels. */
void inputGradient(const Stem& st, const float* dqb, const float* dkb, const float* dvb, const float* wq,
                   const float* wk, const float* wv, float* dx) {
  const int64_t F = st.F;
  for (int64_t p = 0; p < st.S; ++p) {
    const float* wvp = wv + p * st.valueStride();
    const float *dq = dqb + p * F, *dk = dkb + p * F, *dv = dvb + p * F;
    for (int64_t i = 0; i < st.dIn; ++i) {
      float sum = 0.0f;
      for (int64_t c = 0; c < F; ++c) sum += dq[c] * wq[i * F + c] + dk[c] * wk[i * F + c] + dv[c] * wvp[i * F + c];
      dx[p * st.dIn + i] = sum;
    }
  }
}

struct StemGrads {
  float *dx, *dwq, *dwk, *dwv, *dRelRow, *dRelCol;
};

/**
 * The gradient of stemForwardBlockMax's out, as the stem's dy: dy[b][s][c] = [s = argmax[b][c]]·dOut[b][c]·k1[c]
 * + y[b][s][c]·k2[c] + k3[c] (bnBlockMaxBackward's dx; the coefficients from its sums over the extremes).
 */
struct BlockMaxGrad {
  const float* dOut;  // [n][F]
  const int32_t* argmax;
  const float *k1, *k2, *k3;  // [F]
};

/**
 * Head n's dy of block b from BlockMaxGrad into w.DY, with the head's y recomputed as P·V (P from
 * smallHeadProbabilities in w.L, V rows in w.V) in w.O0, which the gradients overwrite later.
 */
void blockMaxHeadDy(const Stem& st, const BlockMaxGrad& bg, int64_t b, int64_t n, SmallHead& w) {
  const int64_t S = st.S, D = st.g.D, Dp = w.p.Dp, lo = n * D;
  gemm(S, w.L, w.p.Sp, 1, w.V, Dp, S, Dp, w.O0, Dp);
  const float* dOut = bg.dOut + b * st.F + lo;
  const int32_t* arg = bg.argmax + b * st.F + lo;
  const float *k1 = bg.k1 + lo, *k2 = bg.k2 + lo, *k3 = bg.k3 + lo;
  for (int64_t s = 0; s < S; ++s) {
    const float* y = w.O0 + s * Dp;
    float* dy = w.DY + s * Dp;
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) {
      const float gate = arg[d] == s ? dOut[d] : 0.0f;
      dy[d] = gate * k1[d] + y[d] * k2[d] + k3[d];
    }
  }
}

/**
 * Head n's values of one block for the backward: channel-major VT = (x Wv[p])ᵀ and, when `rows` (or
 * without xT, the block's x channel-major when S is whole vectors), the rows V.
 */
void projectValues(const Stem& st, const float* x, const float* xT, const Weights& w, int64_t n, bool rows,
                   SmallHead& h) {
  if (rows || !xT) projectHeadRows(st, x, w.wv, st.valueStride(), n, 1.0f, h.p.Dp, h.V);
  if (xT) {
    projectHeadT(st, xT, w.wv, st.P == 1 ? nullptr : w.wvT.data(), n, h.VT);
  } else {
    transposeHead(h, h.V, h.VT);
  }
}

/**
 * The weights' (and with out.dx, x's) gradients of the stem for dy [n][S][F], or with bg (dy null) for
 * stemForwardBlockMax's out, whose dy each head builds from its recomputed y (blockMaxHeadDy). Without dx
 * and with d_in < D, Wq's, Wk's and the tables' gradients come from the low-rank sums (stem_low_rank.h).
 */
void stemBackward(const Stem& st, const float* dy, const BlockMaxGrad* bg, const float* x, const Weights& weights,
                  const float* relRow, const float* relCol, const float* lse, const StemGrads& out) {
  const Geometry& g = st.g;
  const int threads = numThreads();
  const int64_t tableSize = g.useQR ? g.K * g.half : 0;
  const SmallPlan plan(g, relRow, relCol);
  const std::optional<LowRankPlan> lr = out.dx ? std::nullopt : lowRankPlan(st, plan, weights, relRow, relCol);
  std::vector<Accumulators> acc(threads, Accumulators(st, tableSize));
  std::vector<LowRankSums> lowSums;
  if (lr) lowSums.assign(threads, LowRankSums(*lr));
  std::optional<PixelLanes> lanes;
  if (lr && bg && PixelLanes::fits(*lr)) lanes.emplace(*lr);
#pragma omp parallel num_threads(threads)
  {
    FlushDenormals ftz;
    SmallHead w(plan, true);
    std::optional<LowRankBlock> low;
    if (lr) low.emplace(*lr);
    std::vector<float> xT(low ? 0 : st.dIn * st.S);
    // dq, dk, dv of the block [S][F] each, only for dx.
    std::vector<float> dqkv(out.dx ? 3 * st.block() : 0);
    const int thread = omp_get_thread_num();
    Accumulators& mine = acc[thread];
    const bool channelMajor = st.S % VL == 0;
    // the block's x channel-major: the low-rank block's copy when there is one (S whole vectors: no padding)
    const float* xTb = channelMajor ? (low ? low->xT.data() : xT.data()) : nullptr;
#pragma omp for schedule(static)
    for (int64_t b = 0; b < st.n; ++b) {
      const float* xb = x + b * st.S * st.dIn;
      const float* lseb = lse + b * st.S * g.N;
      if (dy && b + 1 < st.n) prefetch(dy + (b + 1) * st.block(), st.block());
      if (low) {
        low->load(xb);
      } else if (channelMajor) {
        transposeInput(st, xb, xT.data());
      }
      for (int64_t h = 0; h < g.N; ++h) {
        if (lanes) {
          const int64_t lo = h * g.D, at = b * st.F + lo;
          const HeadValues hv{weights.wv + lo, mine.valueSums() + lo, st.valueStride(), st.F};
          lanes->values(xb, hv, w.V);
          vf lseh;
          for (int64_t s = 0; s < VL; ++s) lseh[s] = lseb[s * g.N + h];
          lanes->head(*low, w, h, xb, lseh, bg->dOut + at, bg->argmax + at, bg->k1 + lo, bg->k2 + lo, bg->k3 + lo, hv,
                      lowSums[thread]);
          continue;
        }
        if (low) {
          low->logits(w, h, xb);
          probabilitiesFromLogits(w, h, lseb);
          projectValues(st, xb, xTb, weights, h, bg != nullptr, w);
        } else {
          projectHead(st, xb, xTb, weights, h, true, w);
          smallHeadProbabilities(w, h, w.KT, lseb);
          if (bg && xTb) projectHeadRows(st, xb, weights.wv, st.valueStride(), h, 1.0f, w.p.Dp, w.V);
        }
        if (bg) {
          blockMaxHeadDy(st, *bg, b, h, w);
        } else {
          w.load(dy + b * st.block(), g.C, h, 1.0f, w.DY, nullptr);
        }
        if (low) {
          logitGradients(w, h, w.VT, lseb);
          lowSums[thread].add(*low, w, h, xb);
          valueGradients(w);
          mine.addHead(st, xb, w, h, false);
          continue;
        }
        smallHeadGradientsFromP(w, h, w.VT, lseb, mine.rel.data(), mine.rel.data() + tableSize);
        mine.addHead(st, xb, w, h);
        if (out.dx) {
          w.store_(w.O0, static_cast<float>(g.scale), dqkv.data(), st.F, h);
          w.store_(w.O1, 1.0f, dqkv.data() + st.block(), st.F, h);
          w.store_(w.O2, 1.0f, dqkv.data() + 2 * st.block(), st.F, h);
        }
      }
      mine.weights.blockDone();
      if (low) lowSums[thread].sums.blockDone();
      if (out.dx) {
        inputGradient(st, dqkv.data(), dqkv.data() + st.block(), dqkv.data() + 2 * st.block(), weights.wq,
                      weights.wk, weights.wv, out.dx + b * st.S * st.dIn);
      }
    }
    mine.weights.flush();
    if (low) lowSums[thread].sums.flush();
  }
  // Sums over the threads in thread order.
  auto reduce = [&](auto field, int64_t offset, int64_t size, float* dst) {
    for (int64_t e = 0; e < size; ++e) {
      double sum = 0.0;
      for (const Accumulators& a : acc) sum += field(a)[offset + e];
      dst[e] = static_cast<float>(sum);
    }
  };
  const auto weightSums = [](const Accumulators& a) { return a.weights.total.data(); };
  const auto tableSums = [](const Accumulators& a) { return a.rel.data(); };
  const int64_t matrix = st.dIn * st.F;
  // with the low-rank sums, dWq, dWk and the tables are theirs (below), not these sums' (zeros)
  if (!lr) {
    reduce(weightSums, 0, matrix, out.dwq);
    reduce(weightSums, matrix, matrix, out.dwk);
  }
  reduce(weightSums, 2 * matrix, st.P * matrix, out.dwv);
  if (tableSize && !lr) {
    reduce(tableSums, 0, tableSize, out.dRelRow);
    reduce(tableSums, tableSize, tableSize, out.dRelCol);
  }
  if (lr) {
    lowRankGradients(*lr, lowSums, weights.wq, weights.wk, relRow, relCol, out.dwq, out.dwk, out.dRelRow,
                     out.dRelCol);
  }
}

/**
 * stemAttentionForward(x, wq, wk, wv, relRow, relCol, y, lse, geometry)
 * geometry: the object Stem::from reads. The tables may be empty without relative logits.
 */
Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guarded(info, "stemAttention", [&] {
    const Stem st = Stem::from(objectArg(info, 8, "geometry"));
    const int64_t tableSize = st.g.useQR ? st.g.K * st.g.half : 0;
    const float* x = floatArg(info, 0, "x", st.n * st.S * st.dIn);
    const float* wq = floatArg(info, 1, "wq", st.dIn * st.F);
    const float* wk = floatArg(info, 2, "wk", st.dIn * st.F);
    const float* wv = floatArg(info, 3, "wv", st.P * st.dIn * st.F);
    const float* relRow = floatArg(info, 4, "relRow", tableSize);
    const float* relCol = floatArg(info, 5, "relCol", tableSize);
    float* y = floatArg(info, 6, "y", st.n * st.block());
    float* lse = floatArg(info, 7, "lse", st.n * st.S * st.g.N);
    stemForward(st, x, Weights(st, wq, wk, wv), relRow, relCol, y, lse);
  });
}

/**
 * stemAttentionBackward(dy, x, wq, wk, wv, relRow, relCol, lse, dx, dwq, dwk, dwv, dRelRow,
 *                       dRelCol, geometry): gradients of Σ dy·y; dx is skipped when empty.
 */
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, "stemAttention (gradient)", [&] {
    const Stem st = Stem::from(objectArg(info, 14, "geometry"));
    const int64_t tableSize = st.g.useQR ? st.g.K * st.g.half : 0;
    const int64_t xSize = st.n * st.S * st.dIn;
    const float* dy = floatArg(info, 0, "dy", st.n * st.block());
    const float* x = floatArg(info, 1, "x", xSize);
    const float* wq = floatArg(info, 2, "wq", st.dIn * st.F);
    const float* wk = floatArg(info, 3, "wk", st.dIn * st.F);
    const float* wv = floatArg(info, 4, "wv", st.P * st.dIn * st.F);
    const float* relRow = floatArg(info, 5, "relRow", tableSize);
    const float* relCol = floatArg(info, 6, "relCol", tableSize);
    const float* lse = floatArg(info, 7, "lse", st.n * st.S * st.g.N);
    float* dx = floatArg(info, 8, "dx", 0);
    const bool wantDx = info[8].As<Napi::Float32Array>().ElementLength() > 0;
    if (wantDx) floatArg(info, 8, "dx", xSize);
    const StemGrads out{wantDx ? dx : nullptr,
                        floatArg(info, 9, "dwq", st.dIn * st.F),
                        floatArg(info, 10, "dwk", st.dIn * st.F),
                        floatArg(info, 11, "dwv", st.P * st.dIn * st.F),
                        floatArg(info, 12, "dRelRow", tableSize),
                        floatArg(info, 13, "dRelCol", tableSize)};
    stemBackward(st, dy, nullptr, x, Weights(st, wq, wk, wv), relRow, relCol, lse, out);
  });
}

/**
 * stemAttentionBlockMaxForward(x, wq, wk, wv, relRow, relCol, gamma, beta, out, mean, variance, extreme,
 *                              argmax, lse, geometry, epsilon): stemAttentionForward's y, its training batch
 * norm and the max over each block (bnBlockMaxForward's y, mean and variance) without y: out, extreme
 * [n][F] (float), argmax [n][F] (int32), mean, variance [F].
 */
Napi::Value ForwardBlockMax(const Napi::CallbackInfo& info) {
  return guarded(info, "stemAttentionBlockMax", [&] {
    const Stem st = Stem::from(objectArg(info, 14, "geometry"));
    const int64_t tableSize = st.g.useQR ? st.g.K * st.g.half : 0;
    const int64_t F = st.F, pooled = st.n * F;
    const float* x = floatArg(info, 0, "x", st.n * st.S * st.dIn);
    const float* wq = floatArg(info, 1, "wq", st.dIn * F);
    const float* wk = floatArg(info, 2, "wk", st.dIn * F);
    const float* wv = floatArg(info, 3, "wv", st.P * st.dIn * F);
    const float* relRow = floatArg(info, 4, "relRow", tableSize);
    const float* relCol = floatArg(info, 5, "relCol", tableSize);
    const BlockMax bm{floatArg(info, 6, "gamma", F), floatArg(info, 7, "beta", F),
                      static_cast<float>(numArg(info, 15, "epsilon")), floatArg(info, 11, "extreme", pooled),
                      const_cast<int32_t*>(intsArg(info, 12, "argmax", pooled))};  // outputs
    float* out = floatArg(info, 8, "out", pooled);
    float* mean = floatArg(info, 9, "mean", F);
    float* var = floatArg(info, 10, "variance", F);
    float* lse = floatArg(info, 13, "lse", st.n * st.S * st.g.N);
    stemForwardBlockMax(st, x, Weights(st, wq, wk, wv), relRow, relCol, bm, out, mean, var, lse);
  });
}

/**
 * stemAttentionBlockMaxBackward(dOut, x, wq, wk, wv, relRow, relCol, lse, extreme, argmax, mean, variance,
 *                               gamma, dMean, dVariance, dx, dwq, dwk, dwv, dRelRow, dRelCol, dgamma, dbeta,
 *                               geometry, epsilon): the gradients of Σ dOut·out + dMean·mean + dVariance·variance
 * of stemAttentionBlockMaxForward; dx skipped when empty. The batch norm's sums run over the extremes
 * (bnBlockMaxBackward's), the statistics' own gradients fold into its per-channel coefficients.
 */
Napi::Value BackwardBlockMax(const Napi::CallbackInfo& info) {
  return guarded(info, "stemAttentionBlockMax (gradient)", [&] {
    const Stem st = Stem::from(objectArg(info, 23, "geometry"));
    const int64_t tableSize = st.g.useQR ? st.g.K * st.g.half : 0;
    const int64_t F = st.F, pooled = st.n * F, xSize = st.n * st.S * st.dIn, rows = st.n * st.S;
    const float eps = static_cast<float>(numArg(info, 24, "epsilon"));
    const float* dOut = floatArg(info, 0, "dOut", pooled);
    const float* x = floatArg(info, 1, "x", xSize);
    const float* wq = floatArg(info, 2, "wq", st.dIn * F);
    const float* wk = floatArg(info, 3, "wk", st.dIn * F);
    const float* wv = floatArg(info, 4, "wv", st.P * st.dIn * F);
    const float* relRow = floatArg(info, 5, "relRow", tableSize);
    const float* relCol = floatArg(info, 6, "relCol", tableSize);
    const float* lse = floatArg(info, 7, "lse", st.n * st.S * st.g.N);
    const float* extreme = floatArg(info, 8, "extreme", pooled);
    const int32_t* argmax = intsArg(info, 9, "argmax", pooled);
    const float* mean = floatArg(info, 10, "mean", F);
    const float* var = floatArg(info, 11, "variance", F);
    const float* gamma = floatArg(info, 12, "gamma", F);
    const float* dMean = floatArg(info, 13, "dMean", F);
    const float* dVar = floatArg(info, 14, "dVariance", F);
    for (int64_t e = 0; e < pooled; ++e) {
      if (argmax[e] < 0 || argmax[e] >= st.S) fail("stemAttentionBlockMax", "argmax out of range");
    }
    float* dx = floatArg(info, 15, "dx", 0);
    const bool wantDx = info[15].As<Napi::Float32Array>().ElementLength() > 0;
    if (wantDx) floatArg(info, 15, "dx", xSize);
    const StemGrads out{wantDx ? dx : nullptr,
                        floatArg(info, 16, "dwq", st.dIn * F),
                        floatArg(info, 17, "dwk", st.dIn * F),
                        floatArg(info, 18, "dwv", st.P * st.dIn * F),
                        floatArg(info, 19, "dRelRow", tableSize),
                        floatArg(info, 20, "dRelCol", tableSize)};
    float* dgamma = floatArg(info, 21, "dgamma", F);
    float* dbeta = floatArg(info, 22, "dbeta", F);
    std::vector<float> k1, k2, k3;
    bn::gradientCoefficients(dOut, extreme, st.n, F, mean, var, gamma, eps, rows, dgamma, dbeta, k1, k2, k3);
    // + dMean/M + dVariance·2(y − mean)/M: the gradient through the statistics themselves.
    for (int64_t c = 0; c < F; ++c) {
      if (dMean[c] == 0.0f && dVar[c] == 0.0f) continue;
      const double twice = 2.0 * dVar[c] / static_cast<double>(rows);
      k2[c] = static_cast<float>(k2[c] + twice);
      k3[c] = static_cast<float>(k3[c] + dMean[c] / static_cast<double>(rows) - twice * mean[c]);
    }
    const BlockMaxGrad bg{dOut, argmax, k1.data(), k2.data(), k3.data()};
    stemBackward(st, nullptr, &bg, x, Weights(st, wq, wk, wv), relRow, relCol, lse, out);
  });
}

}  // namespace

void registerStemAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("stemAttentionForward", Napi::Function::New(env, Forward));
  exports.Set("stemAttentionBackward", Napi::Function::New(env, Backward));
  exports.Set("stemAttentionBlockMaxForward", Napi::Function::New(env, ForwardBlockMax));
  exports.Set("stemAttentionBlockMaxBackward", Napi::Function::New(env, BackwardBlockMax));
}

}  // namespace sasa
