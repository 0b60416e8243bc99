// Local self-attention (local_attention.cc's op) for the paper's layers — k 7, 8 or 16 channels a head, zero
// padding, qk and qr logits, H and W multiples of 4 — with the 16 queries of a 4×4 block in the lanes of a
// vector. The block's queries see the 10×10 keys around it (the union of their 7×7 windows): key (u, v) is
// image pixel (4·bi - 3 + u, 4·bj - 3 + v), lane l = 4r + c is query (4·bi + r, 4·bj + c), and the lane's
// window holds the keys with u - r and v - c in [0, 7). Each key's logits for the 16 queries are one vector,
//   L[u][v] = Σ_c q̂ᵀ[c] · k_uv[c] + rowTerm[u] + colTerm[v],   q̂ = scale·q,
// with the key's channels broadcast straight from the channels-last tensor: nothing is laid out, and every
// multiply-add is a whole-vector FMA with its other operand broadcast from memory: about twice the products
// the windows need (100 keys for 49), against the planar path's layout copies and shifted loads. The
// relative terms are the lane's rowL[u - r] = q̂_row·relRow[u - r] and colL[v - c], or -inf outside its
// window, which the softmax then weighs 0. Keys outside the image are zero rows (zero padding: their logits
// are the relative terms alone).
//   forward:  P = exp(L - max), y = (Σ P v) / Σ P, lse = max + log Σ P
//   backward: P = exp(L - lse), dP = dy·v, dS = P (dP - Σ P dP),
//             dq = scale·(Σ dS k + Σ_da rowS[da] relRow[da] + Σ_db colS[db] relCol[db]),
//             dk += Σ dS q̂, dv += Σ P dy, dRelRow[da] += Σ rowS[da] q̂
//             (rowS / colS: dS summed over a window row / column).
// The exps run on the 49 window offsets, not the 100 keys: each lane's window holds one key of each residue
// (u mod k, v mod k), so those keys' lanes share a vector (inWindows).
// With a 2×2 pool the four queries of a cell share one dy and one pooled y, so y and dv take sums of P over
// each cell's lanes: four multiply-adds of a key's channels instead of sixteen.
// Tasks are (head group, image) pairs (Tasks, below) whose heads take each block in turn, so that a pixel's
// channels of the group are read together; each task owns its channels of dq, dk, dv and of dRel's image slice.
#include "block_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "small_attention.h"

namespace sasa {
namespace attention {

#if defined(__AVX512F__)
namespace {

constexpr int kSide = 4, kWindow = 7, kHalo = kWindow / 2;
constexpr int kSpan = kSide + kWindow - 1, kKeys = kSpan * kSpan, kLanes = kSide * kSide;
constexpr int kGroupChannels = 16;

/** A pixel's D channels of one head, as one vector. */
template <int D>
struct Channels;
template <>
struct Channels<8> {
  typedef float type __attribute__((vector_size(8 * sizeof(float))));
};
template <>
struct Channels<16> {
  typedef float type __attribute__((vector_size(16 * sizeof(float))));
};

alignas(64) const float kZeros[kGroupChannels] = {};  // a key outside the image: k = v = 0 (D <= 16)

inline __mmask16 rowLanes(int r) { return static_cast<__mmask16>(0xF << (4 * r)); }
inline __mmask16 colLanes(int c) { return static_cast<__mmask16>(0x1111 << c); }
inline vf blend(__mmask16 m, vf a, vf b) {
  return reinterpret_cast<vf>(_mm512_mask_blend_ps(m, reinterpret_cast<__m512>(a), reinterpret_cast<__m512>(b)));
}

/** The first lane of each 2×2 cell of a block (cells row by row): lanes 4r + c with r, c even. */
constexpr int kCellLanes[4] = {0, 2, 8, 10};

/** x summed over each 2×2 cell of the block's lanes, the sum in each of the cell's lanes. */
inline vf cellSums(vf x) {
  x += __builtin_shufflevector(x, x, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
  return x + __builtin_shufflevector(x, x, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
}

/** The lanes whose window holds key (u, v) of the span: u - r and v - c in [0, k). */
constexpr __mmask16 windowLanes(int u, int v) {
  unsigned m = 0;
  for (int r = 0; r < kSide; ++r) {
    for (int c = 0; c < kSide; ++c) {
      if (u - r >= 0 && u - r < kWindow && v - c >= 0 && v - c < kWindow) m |= 1u << (kSide * r + c);
    }
  }
  return static_cast<__mmask16>(m);
}

/** windowLanes of each key of the span, row by row. */
struct WindowLanes {
  __mmask16 of[kKeys];
  constexpr WindowLanes() : of() {
    for (int w = 0; w < kKeys; ++w) of[w] = windowLanes(w / kSpan, w % kSpan);
  }
};
constexpr WindowLanes kWindowLanes;

/**
 * X[key] = f(X[key]) in the lanes whose window holds the key and 0 in the others, for an elementwise f (an
 * exp). Keys u and u + k of a span column hold complementary lanes (a lane's window has one key of each
 * residue mod k), and so do v and v + k of a row: f runs once for each of the k² residues (u mod k, v mod k) on
 * its up-to-four keys' lanes blended into one vector, and the result goes back to them — 49 evaluations
 * instead of 100, every lane's value the same.
 */
template <class F>
inline void inWindows(vf* X, F f) {
#pragma GCC unroll 7
  for (int u = 0; u < kWindow; ++u) {
#pragma GCC unroll 7
    for (int v = 0; v < kWindow; ++v) {
      const int keys[4] = {u * kSpan + v, (u + kWindow) * kSpan + v, u * kSpan + v + kWindow,
                           (u + kWindow) * kSpan + v + kWindow};
      const bool in[4] = {true, u + kWindow < kSpan, v + kWindow < kSpan, u + kWindow < kSpan && v + kWindow < kSpan};
      vf x = X[keys[0]];
      for (int t = 1; t < 4; ++t) {
        if (in[t]) x = blend(kWindowLanes.of[keys[t]], x, X[keys[t]]);
      }
      const __m512 e = reinterpret_cast<__m512>(f(x));
      for (int t = 0; t < 4; ++t) {
        if (in[t]) X[keys[t]] = reinterpret_cast<vf>(_mm512_maskz_mov_ps(kWindowLanes.of[keys[t]], e));
      }
    }
  }
}

/** out[u] = t[u - r] in the lanes of block row (or column) r = lanes' argument, -inf where u - r is outside [0, k). */
void spreadOverSpan(const vf* t, __mmask16 (*lanes)(int), vf* out) {
  for (int u = 0; u < kSpan; ++u) {
    vf x = splat(-std::numeric_limits<float>::infinity());
    for (int r = 0; r < kSide; ++r) {
      if (u - r >= 0 && u - r < kWindow) x = blend(lanes(r), x, t[u - r]);
    }
    out[u] = x;
  }
}

/** spreadOverSpan's inverse: out[d] = s[r + d] in the lanes of block row (or column) r, d in [0, k). */
void gatherFromSpan(const vf* s, __mmask16 (*lanes)(int), vf* out) {
  for (int d = 0; d < kWindow; ++d) {
    vf x{};
    for (int r = 0; r < kSide; ++r) x = blend(lanes(r), x, s[r + d]);
    out[d] = x;
  }
}

/** T[c][l] = rows[l][c]: the 16 lanes' D channels, channel by channel. */
inline void toLanes(const Channels<16>::type* rows, vf* T) {
  for (int l = 0; l < kLanes; ++l) T[l] = rows[l];
  transposeSquare(T);
}
inline void toLanes(const Channels<8>::type* rows, vf* T) {
  for (int i = 0; i < 8; ++i) {
    T[i] = __builtin_shufflevector(rows[i], rows[i + 8], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  }
  transposeSquare(T, 8);  // T[i] = [row i | row i + 8] → channel i of the 16 lanes
}

/** rows[l][c] = T[c][l] · mul[l]. */
inline void fromLanes(const vf* T, vf mul, Channels<16>::type* rows) {
  for (int c = 0; c < 16; ++c) rows[c] = T[c] * mul;
  transposeSquare(rows);
}
inline void fromLanes(const vf* T, vf mul, Channels<8>::type* rows) {
  vf z[8];
  for (int c = 0; c < 8; ++c) z[c] = T[c] * mul;
  transposeSquare(z, 8);  // z[i] = [row i | row i + 8]
  for (int i = 0; i < 8; ++i) {
    rows[i] = __builtin_shufflevector(z[i], z[i], 0, 1, 2, 3, 4, 5, 6, 7);
    rows[i + 8] = __builtin_shufflevector(z[i], z[i], 8, 9, 10, 11, 12, 13, 14, 15);
  }
}

template <int D>
using Row = typename Channels<D>::type;

template <int D>
inline Row<D> loadRow(const float* p, float mul = 1.0f) {
  Row<D> r;
  std::memcpy(&r, p, sizeof r);
  return r * mul;
}
template <int D>
inline void storeRow(float* p, Row<D> r) {
  std::memcpy(p, &r, sizeof r);
}

/** One image's 4×4 query blocks, head by head: the window computations of a block and head. */
template <int D>
struct BlockHead {
  static_assert(D <= kGroupChannels, "a key outside the image reads D channels of kZeros");
  const Geometry& g;
  const int64_t b;
  const float *qImage, *kImage, *vImage;  // image b's first pixel (pixel stride ld)
  const float *relRow, *relCol;
  int64_t bi = 0, bj = 0;                    // the block: query rows 4·bi.., columns 4·bj..
  int64_t keyAt[kKeys];                      // key (u, v)'s pixel in the image, -1 outside
  int64_t n = 0;                             // the head
  const float *keys[kKeys], *values[kKeys];  // its channels of each key, or zeros
  Row<D> qRows[kLanes];                      // q̂ of the block's queries
  vf qT[D];                                  // q̂ channel by channel
  vf rowTerm[kSpan], colTerm[kSpan];  // the relative terms of key row u / column v, -inf outside a lane's window
  vf L[kKeys];                        // logits, then softmax weights

  BlockHead(const Geometry& geometry, int64_t image, const float* qp, const float* kp, const float* vp,
            const float* rr, const float* rc)
      : g(geometry), b(image), qImage(at(qp)), kImage(at(kp)), vImage(at(vp)), relRow(rr), relCol(rc) {}

  const float* at(const float* x) const { return x + b * g.H * g.W * g.ld; }
  /** The image pixel of lane l. */
  int64_t query(int l) const { return (4 * bi + l / kSide) * g.W + 4 * bj + l % kSide; }

  /** Takes block (i, j): its keys' pixels. */
  void place(int64_t i, int64_t j) {
    bi = i, bj = j;
    for (int u = 0; u < kSpan; ++u) {
      const int64_t a = kSide * bi - kHalo + u;
      for (int w = 0; w < kSpan; ++w) {
        const int64_t x = kSide * bj - kHalo + w;
        keyAt[u * kSpan + w] = a >= 0 && a < g.H && x >= 0 && x < g.W ? a * g.W + x : -1;
      }
    }
  }

  /** Takes head `head` of the block: its keys, q̂ and relative terms. */
  void start(int64_t head) {
    n = head;
    const float *q = qImage + n * D, *k = kImage + n * D, *v = vImage + n * D;
    for (int w = 0; w < kKeys; ++w) {
      keys[w] = keyAt[w] < 0 ? kZeros : k + keyAt[w] * g.ld;
      values[w] = keyAt[w] < 0 ? kZeros : v + keyAt[w] * g.ld;
    }
    for (int l = 0; l < kLanes; ++l) qRows[l] = loadRow<D>(q + query(l) * g.ld, g.scale);
    toLanes(qRows, qT);
    vf rowL[kWindow] = {}, colL[kWindow] = {};
    for (int c = 0; c < D; ++c) {
      const int64_t ch = n * D + c;
      if (ch < g.half) {
        for (int t = 0; t < kWindow; ++t) rowL[t] += qT[c] * relRow[t * g.half + ch];
      } else {
        for (int t = 0; t < kWindow; ++t) colL[t] += qT[c] * relCol[t * g.half + ch - g.half];
      }
    }
    spreadOverSpan(rowL, rowLanes, rowTerm);
    spreadOverSpan(colL, colLanes, colTerm);
  }

  /** L = the block's logits; returns their maximum per lane. */
  vf logits() {
    vf m = splat(-std::numeric_limits<float>::infinity());
    for (int u = 0; u < kSpan; ++u) {
      vf acc[kSpan];
      for (int w = 0; w < kSpan; ++w) acc[w] = rowTerm[u] + colTerm[w];
      const float* const* kr = keys + u * kSpan;
      for (int c = 0; c < D; ++c) {
        for (int w = 0; w < kSpan; ++w) acc[w] += qT[c] * bcast(kr[w][c]);
      }
      for (int w = 0; w < kSpan; ++w) {
        L[u * kSpan + w] = acc[w];
        m = vmax(m, acc[w]);
      }
    }
    return m;
  }

  /** The block's y (image y's pixels, stride C; 2×2-pooled with epilogue.pool) and lse (null: none). */
  void forward(float* y, float* lse, const Epilogue& epilogue) {
    const vf m = logits();
    vf sum{};
    inWindows(L, [m](vf x) { return expNonPositive(x - m); });
    for (int w = 0; w < kKeys; ++w) sum += L[w];
    const vf inv = 1.0f / sum;
    if (lse) {
      const vf l = m + logPositive(sum);
      for (int t = 0; t < kLanes; ++t) lse[query(t) * g.N] = l[t];
    }
    if (epilogue.pool) return forwardPooled(y, inv, epilogue);
    vf yT[D] = {};
    for (int w = 0; w < kKeys; ++w) {
      const vf p = L[w];
      const float* vr = values[w];
      for (int c = 0; c < D; ++c) yT[c] += p * bcast(vr[c]);
    }
    Row<D> rows[kLanes];
    fromLanes(yT, inv, rows);
    for (int l = 0; l < kLanes; ++l) {
      float* px = y + query(l) * g.C;
      storeRow<D>(px + n * D, rows[l]);
      if (epilogue.any()) epilogue.apply(px, g.C, 1, n * D, D);
    }
  }

  /**
   * forward's y 2×2-averaged: y_cell = ¼ Σ_key (Σ_{l in cell} P[key][l] / ΣP[l]) v_key, four multiply-adds of
   * the key's channels a key (inv: 1 / ΣP).
   */
  void forwardPooled(float* y, vf inv, const Epilogue& epilogue) {
    Row<D> cell[4] = {};
    for (int w = 0; w < kKeys; ++w) {
      const vf s = cellSums(L[w] * inv);
      const Row<D> vr = loadRow<D>(values[w]);
      for (int t = 0; t < 4; ++t) cell[t] += s[kCellLanes[t]] * vr;
    }
    for (int t = 0; t < 4; ++t) {
      float* px = y + ((2 * bi + t / 2) * (g.W / 2) + 2 * bj + t % 2) * g.C;
      storeRow<D>(px + n * D, 0.25f * cell[t]);
      if (epilogue.any()) epilogue.apply(px, g.C, 1, n * D, D);
    }
  }

  /**
   * The block's dq (image dq's pixels, stride ld), its sums into dk and dv (zeroed by the caller) and into
   * relAcc [D][k] (lane by lane, channel c's table's). dy: image dy's pixels (stride C; pooled [H/2][W/2]).
   */
  void backward(const float* dy, bool pooled, const float* lse, float* dq, float* dk, float* dv, vf* relAcc) {
    Row<D> dyRows[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      const int r = l / kSide, c = l % kSide;
      const int64_t at = pooled ? (2 * bi + r / 2) * (g.W / 2) + 2 * bj + c / 2 : query(l);
      dyRows[l] = loadRow<D>(dy + at * g.C + n * D, pooled ? 0.25f : 1.0f);
    }
    vf dyT[D];
    toLanes(dyRows, dyT);
    logits();
    vf lseV;
    for (int l = 0; l < kLanes; ++l) lseV[l] = lse[query(l) * g.N];
    inWindows(L, [lseV](vf x) { return expNonPositive(vmin(x - lseV, vf{})); });
    vf dS[kKeys];
    vf delta{};
    for (int u = 0; u < kSpan; ++u) {
      vf acc[kSpan] = {};
      const float* const* vr = values + u * kSpan;
      for (int c = 0; c < D; ++c) {
        for (int w = 0; w < kSpan; ++w) acc[w] += dyT[c] * bcast(vr[w][c]);
      }
      for (int w = 0; w < kSpan; ++w) {
        dS[u * kSpan + w] = acc[w];
        delta += L[u * kSpan + w] * acc[w];
      }
    }
    for (int w = 0; w < kKeys; ++w) dS[w] = L[w] * (dS[w] - delta);
    vf dqT[D] = {};
    for (int w = 0; w < kKeys; ++w) {
      const vf d = dS[w];
      const float* kr = keys[w];
      for (int c = 0; c < D; ++c) dqT[c] += d * bcast(kr[c]);
    }
    relativeGrads(dS, dqT, relAcc);
    Row<D> rows[kLanes];
    fromLanes(dqT, splat(g.scale), rows);
    for (int l = 0; l < kLanes; ++l) storeRow<D>(dq + query(l) * g.ld, rows[l]);
    gatherKeys(dS, qRows, dk);
    if (pooled) {
      gatherCells(L, dyRows, dv);
    } else {
      gatherKeys(L, dyRows, dv);
    }
  }

  /** dqT[c] += Σ_d S[d] table[d][c], relAcc[c][d] += S[d] q̂ᵀ[c] (S: rowS or colS, as channel c's half). */
  void relativeGrads(const vf* dS, vf* dqT, vf* relAcc) const {
    vf sumRow[kSpan], sumCol[kSpan] = {}, rowS[kWindow], colS[kWindow];
    for (int u = 0; u < kSpan; ++u) {
      vf s{};
      for (int w = 0; w < kSpan; ++w) {
        s += dS[u * kSpan + w];
        sumCol[w] += dS[u * kSpan + w];
      }
      sumRow[u] = s;
    }
    gatherFromSpan(sumRow, rowLanes, rowS);
    gatherFromSpan(sumCol, colLanes, colS);
    for (int c = 0; c < D; ++c) {
      const int64_t ch = n * D + c;
      const bool isRow = ch < g.half;
      const float* table = isRow ? relRow + ch : relCol + (ch - g.half);
      const vf* S = isRow ? rowS : colS;
      for (int t = 0; t < kWindow; ++t) {
        dqT[c] += S[t] * table[t * g.half];
        relAcc[c * kWindow + t] += S[t] * qT[c];
      }
    }
  }

  /**
   * out[key] += Σ_l W[key][l] · rows[l] over the in-image keys (out: the image's pixels, stride ld), in four
   * partial sums a key (a chain of 16 dependent multiply-adds would wait on each one's latency).
   */
  void gatherKeys(const vf* W, const Row<D>* rows, float* out) const {
    for (int w = 0; w < kKeys; ++w) {
      if (keyAt[w] < 0) continue;
      Row<D> a[4];
      for (int l = 0; l < 4; ++l) a[l] = W[w][l] * rows[l];
      for (int l = 4; l < kLanes; ++l) a[l % 4] += W[w][l] * rows[l];
      float* o = out + keyAt[w] * g.ld;
      storeRow<D>(o, loadRow<D>(o) + ((a[0] + a[1]) + (a[2] + a[3])));
    }
  }

  /**
   * gatherKeys for rows equal within each 2×2 cell of the block (a pooled dy): out[key] += Σ_cell (Σ_{l in
   * cell} W[key][l]) · rows[cell], four multiply-adds a key.
   */
  void gatherCells(const vf* W, const Row<D>* rows, float* out) const {
    for (int w = 0; w < kKeys; ++w) {
      if (keyAt[w] < 0) continue;
      const vf s = cellSums(W[w]);
      Row<D> acc = s[kCellLanes[0]] * rows[kCellLanes[0]];
      for (int t = 1; t < 4; ++t) acc += s[kCellLanes[t]] * rows[kCellLanes[t]];
      float* o = out + keyAt[w] * g.ld;
      storeRow<D>(o, loadRow<D>(o) + acc);
    }
  }
};

/**
 * Tasks: (head group, image) pairs, images fastest (so that the threads' tasks are apart). The groups are as few
 * as give every thread two tasks or more, each a whole number of 16-channel spans (one or two heads): every pixel's
 * channels of a group are read and written together, whole cache lines at a time, block by block.
 */
struct Tasks {
  int64_t groups, heads, count;
  explicit Tasks(const Geometry& g) : groups(fewestGroups(g.N / (kGroupChannels / g.D), g.B)) {
    heads = g.N / groups;
    count = groups * g.B;
  }
};

template <int D>
void forwardHeads(const Geometry& g, const float* q, const float* k, const float* v, const float* relRow,
                  const float* relCol, float* y, float* lse, const Epilogue& epilogue) {
  const Tasks tasks(g);
  const int64_t pooledPixels = epilogue.pool ? g.H / 2 * (g.W / 2) : g.H * g.W;
#pragma omp parallel
  {
    FlushDenormals ftz;
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks.count; ++task) {
      const int64_t b = task % g.B, n0 = task / g.B * tasks.heads;
      float* yImage = y + b * pooledPixels * g.C;
      float* lseImage = lse ? lse + b * g.H * g.W * g.N : nullptr;
      BlockHead<D> head(g, b, q, k, v, relRow, relCol);
      for (int64_t bi = 0; bi < g.H / kSide; ++bi) {
        for (int64_t bj = 0; bj < g.W / kSide; ++bj) {
          head.place(bi, bj);
          for (int64_t n = n0; n < n0 + tasks.heads; ++n) {
            head.start(n);
            head.forward(yImage, lseImage ? lseImage + n : nullptr, epilogue);
          }
        }
      }
    }
  }
}

template <int D>
void backwardHeads(const Geometry& g, const float* dy, const float* q, const float* k, const float* v,
                   const float* relRow, const float* relCol, const float* lse, Grads out, std::vector<double>& dRel,
                   bool pooled) {
  const int64_t tableSize = g.K * g.half, pixels = g.H * g.W;
  dRel.assign(static_cast<size_t>(g.B) * 2 * tableSize, 0.0);
  const Tasks tasks(g);
  const int64_t dyPixels = pooled ? g.H / 2 * (g.W / 2) : pixels;
#pragma omp parallel
  {
    FlushDenormals ftz;
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks.count; ++task) {
      const int64_t b = task % g.B, n0 = task / g.B * tasks.heads, lo = n0 * D, count = tasks.heads * D;
      float *dq = out.dq + b * pixels * g.ld, *dk = out.dk + b * pixels * g.ld, *dv = out.dv + b * pixels * g.ld;
      const float* dyImage = dy + b * dyPixels * g.C;
      const float* lseImage = lse + b * pixels * g.N;
      std::vector<vf> relAcc(tasks.heads * D * kWindow, vf{});
      BlockHead<D> head(g, b, q, k, v, relRow, relCol);
      for (int64_t bi = 0, zeroed = 0; bi < g.H / kSide; ++bi) {
        // dk and dv of the key rows block row bi reaches first, zeroed as it starts (so they are still in cache)
        for (const int64_t reach = std::min(g.H, kSide * bi + kSide + kHalo); zeroed < reach; ++zeroed) {
          for (int64_t p = zeroed * g.W; p < (zeroed + 1) * g.W; ++p) {
            std::fill_n(dk + p * g.ld + lo, count, 0.0f);
            std::fill_n(dv + p * g.ld + lo, count, 0.0f);
          }
        }
        for (int64_t bj = 0; bj < g.W / kSide; ++bj) {
          head.place(bi, bj);
          for (int64_t n = n0; n < n0 + tasks.heads; ++n) {
            head.start(n);
            head.backward(dyImage, pooled, lseImage + n, dq + n * D, dk + n * D, dv + n * D,
                          relAcc.data() + (n - n0) * D * kWindow);
          }
        }
      }
      double* relImage = dRel.data() + static_cast<size_t>(b) * 2 * tableSize;
      for (int64_t c = 0; c < count; ++c) {
        const int64_t ch = lo + c;
        double* table = ch < g.half ? relImage + ch : relImage + tableSize + (ch - g.half);
        for (int t = 0; t < kWindow; ++t) table[t * g.half] = hsum(relAcc[c * kWindow + t]);
      }
    }
  }
}

}  // namespace

bool blockLanesFit(const Geometry& g) {
  return g.K == kWindow && (g.D == 8 || g.D == 16) && !g.masked && g.useQK && g.useQR && g.H % kSide == 0 &&
         g.W % kSide == 0 && g.N % (kGroupChannels / g.D) == 0;
}

void blockLanesForward(const Geometry& g, const float* q, const float* k, const float* v, const float* relRow,
                       const float* relCol, float* y, float* lse, const Epilogue& epilogue) {
  if (g.D == 8) return forwardHeads<8>(g, q, k, v, relRow, relCol, y, lse, epilogue);
  forwardHeads<16>(g, q, k, v, relRow, relCol, y, lse, epilogue);
}

void blockLanesBackward(const Geometry& g, const float* dy, const float* q, const float* k, const float* v,
                        const float* relRow, const float* relCol, const float* lse, Grads out,
                        std::vector<double>& dRel, bool pooled) {
  if (g.D == 8) return backwardHeads<8>(g, dy, q, k, v, relRow, relCol, lse, out, dRel, pooled);
  backwardHeads<16>(g, dy, q, k, v, relRow, relCol, lse, out, dRel, pooled);
}

#else

bool blockLanesFit(const Geometry&) { return false; }
void blockLanesForward(const Geometry&, const float*, const float*, const float*, const float*, const float*, float*,
                       float*, const Epilogue&) {}
void blockLanesBackward(const Geometry&, const float*, const float*, const float*, const float*, const float*,
                        const float*, const float*, Grads, std::vector<double>&, bool) {}

#endif

}  // namespace attention
}  // namespace sasa
