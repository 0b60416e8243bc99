// The attention stem's logits and weight gradients through its d_in-channel input (attention_stem.cc).
//
// A head's logits are bilinear in the block's input x [S][d_in]: with q = x Wq_n, k = x Wk_n (the
// head's D columns) and T_row, T_col its channels of the relative tables (zero on the other half's),
//   L[s][t] = scale·(q_s·k_t + q_s·T_row[da] + q_s·T_col[db]) = (x M)_s·x_t + (x R_row)[s][da] + (x R_col)[s][db],
//   M = scale·Wq_n Wk_nᵀ [d_in][d_in],   R = scale·Wq_n Tᵀ [d_in][K],
// S²·d_in multiply-adds instead of S²·D (the paper's stem: d_in 3 against D 16). Likewise the gradients
// of Wq, Wk and the tables, which reach them through the logits only, need per block just
//   A = xᵀ dS x [d_in][d_in],   B_row = xᵀ rowS, B_col = xᵀ colS [d_in][K]
// (dS the logits' gradient, rowS / colS its sums per window row / column offset), summed over blocks:
//   dWq_n = scale·(A Wk_n + B_row T_row + B_col T_col),   dWk_n = scale·Aᵀ Wq_n,
//   dRelRow = scale·B_rowᵀ Wq_n, dRelCol = scale·B_colᵀ Wq_n (on the head's channels of each half),
// instead of dq = dS k and dk = dSᵀ q (S²·D each) and their products with x. dx needs dq and dk, so a
// backward asked for dx does not take this path. With 4×4 blocks and 16 channels a head on 16-lane vectors,
// the backward holds the pixels s in the lanes and never reduces across them (PixelLanes).
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "small_attention.h"

namespace sasa {
namespace attention {

/** The most input channels the pixel-lane path (PixelLanes) keeps in registers: the stem's image has 3. */
constexpr int64_t kMaxInputs = 4;

/**
 * Sums kept in float over up to kFlushBlocks blocks, then added to double totals (flush): the stem's
 * per-thread weight-gradient sums (attention_stem.cc's Accumulators, LowRankSums).
 */
struct BlockSums {
  static constexpr int kFlushBlocks = 64;
  std::vector<float> part;    // since the last flush
  std::vector<double> total;  // the same layout
  int pending = 0;
  explicit BlockSums(size_t n) : part(n, 0.0f), total(n, 0.0) {}

  /** Counts a block done: the float sums go to the double totals every kFlushBlocks blocks. */
  void blockDone() {
    if (++pending == kFlushBlocks) flush();
  }
  void flush() {
    for (size_t e = 0; e < part.size(); ++e) total[e] += part[e];
    std::fill(part.begin(), part.end(), 0.0f);
    pending = 0;
  }
};

/** Whether a stem with d_in input channels computes through M, R, A and B: fewer products when d_in < D. */
inline bool lowRank(int64_t dIn, const Geometry& g) { return g.useQK && dIn < g.D; }

/** The products M and R of every head (the file comment), from the weights of one call. */
struct LowRankPlan {
  const SmallPlan& p;
  int64_t dIn;
  std::vector<float> M;  // [N][d_in][d_in]
  std::vector<float> R;  // [N][2][d_in][Kp]: the row table's, then the column table's; zero past K

  /** wq, wk [d_in][C]; relRow, relCol [K][C/2] (unused without qr logits). */
  LowRankPlan(const SmallPlan& plan, int64_t inputs, const float* wq, const float* wk, const float* relRow,
              const float* relCol)
      : p(plan), dIn(inputs) {
    const Geometry& g = p.g;
    M.assign(g.N * dIn * dIn, 0.0f);
    R.assign(g.N * 2 * dIn * p.Kp, 0.0f);
    for (int64_t n = 0; n < g.N; ++n) {
      for (int64_t i = 0; i < dIn; ++i) {
        const float* qi = wq + i * g.C + n * g.D;
        for (int64_t j = 0; j < dIn; ++j) {
          const float* kj = wk + j * g.C + n * g.D;
          double sum = 0.0;
          for (int64_t d = 0; d < g.D; ++d) sum += static_cast<double>(qi[d]) * kj[d];
          M[(n * dIn + i) * dIn + j] = static_cast<float>(g.scale * sum);
        }
        if (!g.useQR) continue;
        for (int64_t t = 0; t < g.K; ++t) {
          double row = 0.0, col = 0.0;
          for (int64_t d = 0; d < g.D; ++d) {
            const int64_t c = n * g.D + d;
            if (c < g.half) row += static_cast<double>(qi[d]) * relRow[t * g.half + c];
            else col += static_cast<double>(qi[d]) * relCol[t * g.half + c - g.half];
          }
          R[((n * 2 + 0) * dIn + i) * p.Kp + t] = static_cast<float>(g.scale * row);
          R[((n * 2 + 1) * dIn + i) * p.Kp + t] = static_cast<float>(g.scale * col);
        }
      }
    }
  }
  const float* m(int64_t n) const { return M.data() + n * dIn * dIn; }
  const float* r(int64_t n, int col) const { return R.data() + (n * 2 + col) * dIn * p.Kp; }
};

/** One thread's buffers for a block: x channel-major xT [d_in][Sp] (zeros past S), (x M)ᵀ and xᵀ dS. */
struct LowRankBlock {
  const LowRankPlan& lr;
  std::vector<float> xT, xMT, xdS;
  explicit LowRankBlock(const LowRankPlan& plan)
      : lr(plan), xT(plan.dIn * plan.p.Sp, 0.0f), xMT(xT.size(), 0.0f), xdS(xT.size(), 0.0f) {}

  /** Takes block x [S][d_in]. */
  void load(const float* x) {
    const int64_t S = lr.p.S, Sp = lr.p.Sp;
    for (int64_t s = 0; s < S; ++s)
      for (int64_t i = 0; i < lr.dIn; ++i) xT[i * Sp + s] = x[s * lr.dIn + i];
  }

  /** Head n's logits of the block (x as load took it, rows [S][d_in]) into w.L, finished (finishLogits). */
  void logits(SmallHead& w, int64_t n, const float* x) {
    const int64_t S = lr.p.S, Sp = lr.p.Sp, Kp = lr.p.Kp, dIn = lr.dIn;
    const float* M = lr.m(n);
    for (int64_t j = 0; j < dIn; ++j) {  // xMT[j][t] = Σ_i M[i][j] x[t][i]
      for (int64_t t0 = 0; t0 < Sp; t0 += VL) {
        vf acc{};
        for (int64_t i = 0; i < dIn; ++i) acc += M[i * dIn + j] * loadu(xT.data() + i * Sp + t0);
        storeu(xMT.data() + j * Sp + t0, acc);
      }
    }
    gemm(S, xMT.data(), 1, Sp, xT.data(), Sp, dIn, Sp, w.L, Sp);
    if (w.g.useQR) {
      gemm(S, x, dIn, 1, lr.r(n, 0), Kp, dIn, Kp, w.rowL, Kp);
      gemm(S, x, dIn, 1, lr.r(n, 1), Kp, dIn, Kp, w.colL, Kp);
    }
    w.finishLogits();
  }
};

/**
 * One thread's sums (BlockSums) of A, lane by lane ([N][d_in][d_in][VL]), then of B ([N][2][d_in][Kp]), then of B
 * lane by lane as the pixel-lane path (PixelLanes) adds it ([N][2][d_in][K][VL]).
 */
struct LowRankSums {
  int64_t sizeA, sizeB;
  BlockSums sums;
  explicit LowRankSums(const LowRankPlan& lr)
      : sizeA(lr.p.g.N * lr.dIn * lr.dIn * VL),
        sizeB(static_cast<int64_t>(lr.R.size())),
        sums(static_cast<size_t>(sizeA + sizeB + lr.p.g.N * 2 * lr.dIn * lr.p.g.K * VL)) {}
  const double* totalA() const { return sums.total.data(); }
  const double* totalB() const { return sums.total.data() + sizeA; }
  const double* totalBLanes() const { return sums.total.data() + sizeA + sizeB; }

  /** Adds head n's A and B of block x (rows [S][d_in]) from logitGradients' dS, rowS, colS in w. */
  void add(LowRankBlock& blk, const SmallHead& w, int64_t n, const float* x) {
    const LowRankPlan& lr = blk.lr;
    const int64_t S = lr.p.S, Sp = lr.p.Sp, Kp = lr.p.Kp, dIn = lr.dIn;
    float* xdS = blk.xdS.data();
    gemm(dIn, x, 1, dIn, w.dS, Sp, S, Sp, xdS, Sp);  // (xᵀ dS)[i][t]
    float* an = sums.part.data() + n * dIn * dIn * VL;
    for (int64_t i = 0; i < dIn; ++i) {
      for (int64_t j = 0; j < dIn; ++j) {
        vf acc = loadu(an + (i * dIn + j) * VL);
        for (int64_t t0 = 0; t0 < Sp; t0 += VL) acc += loadu(xdS + i * Sp + t0) * loadu(blk.xT.data() + j * Sp + t0);
        storeu(an + (i * dIn + j) * VL, acc);
      }
    }
    if (!w.g.useQR) return;
    float* bn = sums.part.data() + sizeA + n * 2 * dIn * Kp;
    gemm(dIn, x, 1, dIn, w.rowS, Kp, S, Kp, bn, Kp, true);
    gemm(dIn, x, 1, dIn, w.colS, Kp, S, Kp, bn + dIn * Kp, Kp, true);
  }
};

/**
 * One head's value matrices for PixelLanes: wv[p·stride + i·F] is pixel p's row i at the head's first channel
 * (stride 0: one matrix for every pixel), and dwv the same place in the thread's sums of their gradient.
 */
struct HeadValues {
  const float* wv;
  float* dwv;
  int64_t stride, F;
};

/**
 * A head of one block with its pixels in the lanes of a vector — its logits (the forward's) and its training
 * backward — for the stem's usual shape: S = D = VL (4×4 blocks, 16 channels a head, AVX-512) with every pair
 * of the block in the window (masked, k = 2s - 1), and d_in ≤ kMaxInputs, its loops compiled per d_in. Where
 * LowRankBlock / logitGradients / LowRankSums::add take the pixels t of a row s in the lanes and reduce over
 * them, here every matrix is held transposed, a vector over s per t: the logits
 * Lᵀ[t] = Σ_j (x M)ᵀ[j] x[t][j] + rowL[s][ta - sa + h] + colL[s][tb - sb + h] (the relative terms picked lane
 * by lane from the vectors (x R)ᵀ[da]), Pᵀ[t] = e^(Lᵀ[t] - lse), yᵀ[d] = Σ_t Pᵀ[t] v[t][d], dyᵀ from the stem's
 * coefficients, dPᵀ[t] = Σ_d dyᵀ[d] v[t][d], and the softmax's Σ_t P dP, the window sums rowS / colS and the
 * sums A and B become sums of whole vectors: no reduction across lanes, no row-by-row shuffles.
 */
struct PixelLanes {
  const LowRankPlan& lr;
  vi rowOf{}, colOf{};  // per lane s: sa = s / W, sb = s % W

  explicit PixelLanes(const LowRankPlan& plan) : lr(plan) {
    for (int64_t s = 0; s < VL; ++s) {
      rowOf[s] = static_cast<int32_t>(s / W);
      colOf[s] = static_cast<int32_t>(s % W);
    }
  }

  // The one block shape this path takes, as constants: 4×4 pixels (S = 16 = VL), the window k = 2·4 - 1.
  static constexpr int64_t H = 4, W = 4, K = 7, h = 3;

  /** Whether a low-rank plan's shape takes this path (the struct comment). */
  static bool fits(const LowRankPlan& plan) {
    const SmallPlan& p = plan.p;
    const Geometry& g = p.g;
    return H * W == VL && g.H == H && g.W == W && g.K == K && g.D == VL && g.masked && p.Kp == VL &&
           plan.dIn <= kMaxInputs;
  }

  /** Lane by lane, lane s of at(iOf[s]): at(i) is the vector for the lanes whose index (iOf) is i < count. */
  template <typename At>
  static vf pick(At at, vi iOf, int64_t count) {
    vf v = at(0);
    for (int64_t i = 1; i < count; ++i) v = iOf == static_cast<int32_t>(i) ? at(i) : v;
    return v;
  }

  /** f(std::integral_constant<int64_t, d_in>) for the plan's d_in (1 … kMaxInputs): loops of known length. */
  template <typename F>
  void withInputs(F f) const {
    static_assert(kMaxInputs == 4, "one case per input count");
    switch (lr.dIn) {
      case 1: return f(std::integral_constant<int64_t, 1>{});
      case 2: return f(std::integral_constant<int64_t, 2>{});
      case 3: return f(std::integral_constant<int64_t, 3>{});
      default: return f(std::integral_constant<int64_t, 4>{});
    }
  }

  /** Head n's logits of block x (rows [S][d_in]; blk.load took it) transposed: lt[t] = Lᵀ[t], a vector over s. */
  void logits(const LowRankBlock& blk, int64_t n, const float* x, vf* lt) const {
    withInputs([&](auto dIn) { logitsOf<dIn>(blk, n, x, lt); });
  }

  /**
   * Head n of block x (rows [S][d_in]; blk.load took it): Pᵀ into w.L ([t][s]), dy rows into w.DY, x_pᵀ dv_p into
   * hv.dwv, A and B into sums. w.V: the head's value rows (values). lse: the head's lse per
   * pixel. dOut, arg, k1, k2, k3: the stem's dy coefficients at the head's channels (attention_stem.cc's
   * BlockMaxGrad).
   */
  void head(LowRankBlock& blk, SmallHead& w, int64_t n, const float* x, vf lse, const float* dOut,
            const int32_t* arg, const float* k1, const float* k2, const float* k3, const HeadValues& hv,
            LowRankSums& sums) const {
    withInputs([&](auto dIn) { headOf<dIn>(blk, w, n, x, lse, dOut, arg, k1, k2, k3, hv, sums); });
  }

  /** The head's value rows of block x, V[t] = Σ_i x[t][i] wv[t][i] ([S][VL]). */
  void values(const float* x, const HeadValues& hv, float* V) const {
    withInputs([&](auto dIn) {
      for (int64_t t = 0; t < VL; ++t) {
        vf acc{};
        for (int64_t i = 0; i < dIn; ++i) acc += x[t * dIn + i] * loadu(hv.wv + t * hv.stride + i * hv.F);
        storeu(V + t * VL, acc);
      }
    });
  }

 private:
  template <int64_t dIn>
  void logitsOf(const LowRankBlock& blk, int64_t n, const float* x, vf* lt) const {
    const Geometry& g = lr.p.g;
    const int64_t Sp = VL;
    const float* xT = blk.xT.data();
    const float* M = lr.m(n);
    vf xM[dIn];  // (x M)ᵀ[j], a vector over s
    for (int64_t j = 0; j < dIn; ++j) {
      vf acc{};
      for (int64_t i = 0; i < dIn; ++i) acc += M[i * dIn + j] * loadu(xT + i * Sp);
      xM[j] = acc;
    }
    vf rowL[VL], colL[VL];  // (x R)ᵀ[da], (x R)ᵀ[db]
    if (g.useQR) {
      const float *rr = lr.r(n, 0), *rc = lr.r(n, 1);
      for (int64_t t = 0; t < K; ++t) {
        vf a{}, b{};
        for (int64_t i = 0; i < dIn; ++i) {
          a += loadu(xT + i * Sp) * bcast(rr[i * lr.p.Kp + t]);
          b += loadu(xT + i * Sp) * bcast(rc[i * lr.p.Kp + t]);
        }
        rowL[t] = a, colL[t] = b;
      }
    }
    // the relative logits of key row ta (column tb), lane s taking offset ta - sa + h (tb - sb + h)
    vf rowOfKey[VL], colOfKey[VL];
    for (int64_t ta = 0; g.useQR && ta < H; ++ta)
      rowOfKey[ta] = pick([&](int64_t sa) { return rowL[ta - sa + h]; }, rowOf, H);
    for (int64_t tb = 0; g.useQR && tb < W; ++tb)
      colOfKey[tb] = pick([&](int64_t sb) { return colL[tb - sb + h]; }, colOf, W);
    for (int64_t t = 0; t < VL; ++t) {
      vf l{};
      for (int64_t j = 0; j < dIn; ++j) l += xM[j] * bcast(x[t * dIn + j]);
      if (g.useQR) l += rowOfKey[t / W] + colOfKey[t % W];
      lt[t] = l;
    }
  }

  template <int64_t dIn>
  void headOf(LowRankBlock& blk, SmallHead& w, int64_t n, const float* x, vf lse, const float* dOut,
              const int32_t* arg, const float* k1, const float* k2, const float* k3, const HeadValues& hv,
              LowRankSums& sums) const {
    const Geometry& g = w.g;
    const int64_t Sp = VL, Dp = VL;
    const float* xT = blk.xT.data();
    vf logitsT[VL];
    logitsOf<dIn>(blk, n, x, logitsT);
    for (int64_t t = 0; t < VL; ++t) storeu(w.L + t * Sp, expBelow(logitsT[t], lse));
    vf yT[VL] = {};  // yᵀ[d] = Σ_t Pᵀ[t] v[t][d], then dyᵀ[d]
    for (int64_t t = 0; t < VL; ++t) {
      const vf p = loadu(w.L + t * Sp);
      for (int64_t d = 0; d < VL; ++d) yT[d] += p * bcast(w.V[t * Dp + d]);
    }
    vi lane;
    for (int64_t s = 0; s < VL; ++s) lane[s] = static_cast<int32_t>(s);
    for (int64_t d = 0; d < VL; ++d) {
      const vf gate = lane == arg[d] ? bcast(dOut[d]) : vf{};
      yT[d] = gate * bcast(k1[d]) + yT[d] * bcast(k2[d]) + bcast(k3[d]);
    }
    vf dyRows[VL];
    std::copy_n(yT, VL, dyRows);
    transposeSquare(dyRows);
    for (int64_t s = 0; s < VL; ++s) storeu(w.DY + s * Dp, dyRows[s]);
    vf delta{};  // Σ_t P dP, per s
    for (int64_t t0 = 0; t0 < VL; t0 += 8) {
      vf dP[8] = {};
      for (int64_t d = 0; d < VL; ++d)
        for (int r = 0; r < 8; ++r) dP[r] += yT[d] * bcast(w.V[(t0 + r) * Dp + d]);
      for (int r = 0; r < 8; ++r) {
        delta += loadu(w.L + (t0 + r) * Sp) * dP[r];
        storeu(w.dS + (t0 + r) * Sp, dP[r]);
      }
    }
    vf dSx[dIn] = {};  // (dS x)ᵀ[j]
    vf rows[VL] = {}, cols[VL] = {};  // Σ_tb dSᵀ[ta·W + tb], Σ_ta dSᵀ[ta·W + tb]
    for (int64_t t = 0; t < VL; ++t) {
      const vf dS = loadu(w.L + t * Sp) * (loadu(w.dS + t * Sp) - delta);
      for (int64_t j = 0; j < dIn; ++j) dSx[j] += dS * bcast(x[t * dIn + j]);
      rows[t / W] += dS;
      cols[t % W] += dS;
    }
    float* an = sums.sums.part.data() + n * dIn * dIn * VL;
    for (int64_t i = 0; i < dIn; ++i) {
      const vf xi = loadu(xT + i * Sp);
      for (int64_t j = 0; j < dIn; ++j) storeu(an + (i * dIn + j) * VL, loadu(an + (i * dIn + j) * VL) + xi * dSx[j]);
    }
    if (g.useQR) {
      float* bn = sums.sums.part.data() + sums.sizeA + sums.sizeB + n * 2 * dIn * K * VL;
      for (int64_t t = 0; t < K; ++t) {
        // rowS[s][t] = Σ_tb dS[s][ta·W + tb] at ta = t + sa - h (zero outside the block), likewise colS
        const vf rs = pick([&](int64_t sa) { return t + sa - h >= 0 && t + sa - h < H ? rows[t + sa - h] : vf{}; },
                           rowOf, H);
        const vf cs = pick([&](int64_t sb) { return t + sb - h >= 0 && t + sb - h < W ? cols[t + sb - h] : vf{}; },
                           colOf, W);
        for (int64_t i = 0; i < dIn; ++i) {
          const vf xi = loadu(xT + i * Sp);
          float* br = bn + (i * K + t) * VL;
          float* bc = bn + ((dIn + i) * K + t) * VL;
          storeu(br, loadu(br) + xi * rs);
          storeu(bc, loadu(bc) + xi * cs);
        }
      }
    }
    // dv[t] = Σ_s P[s][t] dy[s], straight into the sums x[t][i]·dv[t] of the value matrices' gradient
    const auto addValues = [&](int64_t t, int64_t, vf dv) {
      for (int64_t i = 0; i < dIn; ++i) {
        float* at = hv.dwv + t * hv.stride + i * hv.F;
        storeu(at, loadu(at) + x[t * dIn + i] * dv);
      }
    };
    gemmRows(VL, w.L, Sp, 1, w.DY, Dp, VL, Dp, [](int64_t, int64_t) { return vf{}; }, addValues);
  }
};

/**
 * dWq, dWk [d_in][C] and, with qr logits, dRelRow, dRelCol [K][C/2] from the threads' sums (added in
 * thread order; the file comment's formulas), written over the outputs.
 */
inline void lowRankGradients(const LowRankPlan& lr, const std::vector<LowRankSums>& sums, const float* wq,
                             const float* wk, const float* relRow, const float* relCol, float* dwq, float* dwk,
                             float* dRelRow, float* dRelCol) {
  const Geometry& g = lr.p.g;
  const int64_t dIn = lr.dIn, Kp = lr.p.Kp, C = g.C;
  std::vector<double> A(dIn * dIn), B(2 * dIn * Kp);
  for (int64_t n = 0; n < g.N; ++n) {
    std::fill(A.begin(), A.end(), 0.0);
    std::fill(B.begin(), B.end(), 0.0);
    for (const LowRankSums& s : sums) {
      for (int64_t e = 0; e < dIn * dIn; ++e)
        for (int64_t l = 0; l < VL; ++l) A[e] += s.totalA()[(n * dIn * dIn + e) * VL + l];
      for (int64_t e = 0; e < 2 * dIn * Kp; ++e) B[e] += s.totalB()[n * 2 * dIn * Kp + e];
      for (int64_t e = 0; e < 2 * dIn; ++e)
        for (int64_t t = 0; t < g.K; ++t)
          for (int64_t l = 0; l < VL; ++l) B[e * Kp + t] += s.totalBLanes()[((n * 2 * dIn + e) * g.K + t) * VL + l];
    }
    for (int64_t d = 0; d < g.D; ++d) {
      const int64_t c = n * g.D + d;
      const bool isRow = c < g.half;
      const double* Bh = B.data() + (isRow ? 0 : dIn * Kp);
      const float* table = isRow ? relRow + c : relCol + (c - g.half);
      for (int64_t i = 0; i < dIn; ++i) {
        double q = 0.0, k = 0.0;
        for (int64_t j = 0; j < dIn; ++j) {
          q += A[i * dIn + j] * wk[j * C + c];
          k += A[j * dIn + i] * wq[j * C + c];
        }
        for (int64_t t = 0; g.useQR && t < g.K; ++t) q += Bh[i * Kp + t] * table[t * g.half];
        dwq[i * C + c] = static_cast<float>(g.scale * q);
        dwk[i * C + c] = static_cast<float>(g.scale * k);
      }
      if (!g.useQR) continue;
      float* dTable = isRow ? dRelRow + c : dRelCol + (c - g.half);
      for (int64_t t = 0; t < g.K; ++t) {
        double r = 0.0;
        for (int64_t i = 0; i < dIn; ++i) r += Bh[i * Kp + t] * wq[i * C + c];
        dTable[t * g.half] = static_cast<float>(g.scale * r);
      }
    }
  }
}

}  // namespace attention
}  // namespace sasa
