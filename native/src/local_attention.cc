// Fused local self-attention (SASA.md §1), forward and backward, never materialising the k×k
// neighbourhood. Every (image, group of heads) pair is an independent task (HeadGroups: all of an
// image's heads when the images alone give every thread two tasks; groups are split
// further until their buffers fit in about 1 MB), and one parallel region per call runs them all
// (one barrier per call: a thread descheduled by another process then delays only its own task). A
// task copies its group's channels of q, k, v (and dy) from the channels-last [B, H, W, C] tensors
// into per-thread channel-major buffers [channels][H+2h][Wq+2h] (Wq: the width rounded up to whole
// SIMD vectors, h = k/2, zeros around) in 8×8 transposes, whole cache lines at a time, runs its
// heads one after the other on them, and writes its channels of the outputs back the same way.
// Query rows go in pairs where a loaded key or value row serves both. Every inner loop runs over a
// vector of VL neighbouring pixels: the k window offsets along a row are k shifted (unaligned)
// loads of one row, accumulated in registers, and 'zeros' padding needs no tests. The backward pass
// streams each head down the image in query row pairs: it computes the pair's softmax weights P and
// their gradients dS ([k²][row] per query row), adds the pair's dq window sums, and then gathers dk
// and dv (over the queries that saw each key, so no output is written more than once) for the key
// rows whose queries are now all done, a lag of about h rows. P and dS thus live in rings of k + 2
// or k + 3 query rows (~140 KB each at 56², k 7) that stay in L2 with the rows of q, k, v and dy in
// use, instead of whole-image buffers swept three times. The common k (1..11) are compiled with the
// window size known; other sizes (up to 31) use the same code with a runtime size. Small images
// (H·W <= 100) take a separate image-parallel path, below: dense attention among the pixels of each
// image.
//
// Per query pixel (i, j) and head n, window offsets (da, db) ∈ [0, k)², (a, b) = (i+da-h, j+db-h):
//   L[da,db] = q̂·k_ab + q̂_row·relRow[da] + q̂_col·relCol[db],  q̂ = scale·q (head's channels)
//   p = softmax(L), y = Σ p v_ab, lse = log Σ exp L
// Backward keeps only lse between the passes: p is recomputed from the logits. Inference
// (localAttentionInference) writes no lse and may add a bias per channel and a ReLU as y is written.
#include <omp.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "attention_common.h"
#include "block_attention.h"
#include "common.h"
#include "simd.h"
#include "small_attention.h"

namespace sasa {
namespace {

using namespace attention;


/**
 * Per-thread scratch, kept between calls and grown as needed (fresh pages cost page faults): the
 * task's logits / softmax weights and their gradients, and its head's channel-major copies.
 */
enum Slot { kL, kAux, kQ, kK, kV, kDy, kOut0, kOut1, kOut2, kRow, kSlots };

/**
 * What a slot's buffer was last zero-filled for: the size and the geometry (H, W, k) whose margins
 * are still zero, or size 0 once an ordinary threadBuffer call may have written anywhere.
 */
struct ZeroedFor {
  size_t size = 0;
  int64_t H = 0, W = 0, K = 0;
  bool matches(size_t n, const Geometry& g) const { return size == n && H == g.H && W == g.W && K == g.K; }
};

thread_local std::vector<float> tBuffers[kSlots];
thread_local ZeroedFor tZeroed[kSlots];

float* grownBuffer(Slot slot, size_t size) {
  std::vector<float>& b = tBuffers[slot];
  if (b.size() < size) b.resize(size);
  return b.data();
}

/** The slot's buffer, at least `size` floats, contents undefined. */
float* threadBuffer(Slot slot, size_t size) {
  tZeroed[slot] = ZeroedFor{};
  return grownBuffer(slot, size);
}

/**
 * threadBuffer, zero-filled: for the padded buffers of geometry g, whose margins no task writes.
 * Filled only when the slot was last zeroed for another size or geometry (or used unzeroed since):
 * the tasks write only inside the margins, so those stay zero from one call to the next.
 */
float* zeroedThreadBuffer(Slot slot, size_t size, const Geometry& g) {
  ZeroedFor& zeroed = tZeroed[slot];
  const bool kept = zeroed.matches(size, g) && tBuffers[slot].size() >= size;
  float* b = grownBuffer(slot, size);
  if (!kept) {
    std::fill_n(b, size, 0.0f);
    zeroed = ZeroedFor{size, g.H, g.W, g.K};
  }
  return b;
}

#if defined(__AVX__)
/** The 8×8 block r[0..8) (row t: 8 floats) transposed in place. */
inline void transpose8x8(__m256 r[8]) {
  __m256 a[8], b[8];
  for (int t = 0; t < 8; t += 2) {
    a[t] = _mm256_unpacklo_ps(r[t], r[t + 1]);
    a[t + 1] = _mm256_unpackhi_ps(r[t], r[t + 1]);
  }
  for (int t = 0; t < 8; t += 4) {
    b[t] = _mm256_shuffle_ps(a[t], a[t + 2], 0x44);
    b[t + 1] = _mm256_shuffle_ps(a[t], a[t + 2], 0xEE);
    b[t + 2] = _mm256_shuffle_ps(a[t + 1], a[t + 3], 0x44);
    b[t + 3] = _mm256_shuffle_ps(a[t + 1], a[t + 3], 0xEE);
  }
  for (int t = 0; t < 4; ++t) {
    r[t] = _mm256_permute2f128_ps(b[t], b[t + 4], 0x20);
    r[t + 4] = _mm256_permute2f128_ps(b[t], b[t + 4], 0x31);
  }
}

/**
 * dst[c · ds + p] = src[p · ss + c] · mul for c, p in [0, 8) (an 8-pixel × 8-channel block of a
 * channels-last tensor to channel-major, or back with the strides swapped).
 */
inline void transposeBlock(const float* src, int64_t ss, float* dst, int64_t ds, float mul) {
  __m256 r[8];
  for (int t = 0; t < 8; ++t) r[t] = _mm256_loadu_ps(src + t * ss);
  transpose8x8(r);
  const __m256 m = _mm256_set1_ps(mul);
  for (int t = 0; t < 8; ++t) _mm256_storeu_ps(dst + t * ds, _mm256_mul_ps(r[t], m));
}
constexpr int64_t kBlock = 8;
#if defined(__AVX512VL__)
/**
 * transposeBlock for the np ≤ 8 pixels × nc ≤ 8 channels at a run's edge (an image row's last W mod 8 pixels, or
 * channels when the run goes back to channels-last), with masked loads and stores: otherwise they take the scalar
 * loop (at W 28 or 14, 14 % or 43 % of a row's elements and most of the copy's time). Whole blocks stay unmasked
 * (masked, the 28² × 256 kernels were 5-10 % slower).
 */
inline void transposeMasked(const float* src, int64_t ss, float* dst, int64_t ds, float mul, int np, int nc) {
  const __mmask8 channels = static_cast<__mmask8>((1u << nc) - 1), pixels = static_cast<__mmask8>((1u << np) - 1);
  __m256 r[8];
  for (int t = 0; t < 8; ++t) r[t] = t < np ? _mm256_maskz_loadu_ps(channels, src + t * ss) : _mm256_setzero_ps();
  transpose8x8(r);
  const __m256 m = _mm256_set1_ps(mul);
  for (int t = 0; t < nc; ++t) _mm256_mask_storeu_ps(dst + t * ds, pixels, _mm256_mul_ps(r[t], m));
}
#endif
#else
constexpr int64_t kBlock = 0;  // no blocked transposes: every element takes the scalar loop
#endif

/**
 * dst[c · ds + p] = src[p · ss + c] · mul for c in [0, D), p in [0, n): 8×8 blocks, masked at the edges
 * (with AVX-512); with AVX only 8×8 blocks where they fit and elementwise around them; elementwise without.
 */
inline void transposeRun(const float* src, int64_t ss, float* dst, int64_t ds, int64_t D, int64_t n, float mul) {
#if defined(__AVX512VL__)
  for (int64_t c = 0; c < D; c += kBlock) {
    const int nc = static_cast<int>(std::min(kBlock, D - c));
    for (int64_t p = 0; p < n; p += kBlock) {
      const int np = static_cast<int>(std::min(kBlock, n - p));
      if (nc == kBlock && np == kBlock) {
        transposeBlock(src + p * ss + c, ss, dst + c * ds + p, ds, mul);
      } else {
        transposeMasked(src + p * ss + c, ss, dst + c * ds + p, ds, mul, np, nc);
      }
    }
  }
#else
  const int64_t d8 = kBlock ? D / kBlock * kBlock : 0, n8 = kBlock ? n / kBlock * kBlock : 0;
#if defined(__AVX__)
  for (int64_t c = 0; c < d8; c += kBlock) {
    for (int64_t p = 0; p < n8; p += kBlock) transposeBlock(src + p * ss + c, ss, dst + c * ds + p, ds, mul);
  }
#endif
  for (int64_t c = 0; c < D; ++c) {
    for (int64_t p = c < d8 ? n8 : 0; p < n; ++p) dst[c * ds + p] = src[p * ss + c] * mul;
  }
#endif
}

/**
 * Channels [lo, lo + count) of image b of NHWC x (pixel stride ld) → [count][Hp][Wk] with the
 * image at (h, h), × mul. Only the image is written: the zeros around it are the caller's, set once
 * per call (zeroed thread buffers), as nothing else writes there.
 */
void headsToPlanar(const Geometry& g, const float* x, int64_t ld, int64_t b, int64_t lo, int64_t count, float mul,
                   float* dst) {
  const int64_t cs = g.Hp * g.Wk;
  for (int64_t i = 0; i < g.H; ++i) {
    const float* in = x + ((b * g.H + i) * g.W) * ld + lo;
    transposeRun(in, ld, dst + (i + g.h) * g.Wk + g.h, cs, count, g.W, mul);
  }
}

/**
 * The gradient of a 2×2 average pool with stride 2 laid out like headsToPlanar: channels [lo, lo + count) of
 * image b of the pooled NHWC dy [B, H/2, W/2, C] (H, W even), each value × 1/4 at the four pixels it averaged,
 * → [count][Hp][Wk] with the image at (h, h); one pooled row at a time through `row` [count][W/2].
 */
void headsToPlanarUnpooled(const Geometry& g, const float* dy, int64_t b, int64_t lo, int64_t count, float* dst,
                           float* row) {
  const int64_t cs = g.Hp * g.Wk, Ho = g.H / 2, Wo = g.W / 2;
  for (int64_t i = 0; i < Ho; ++i) {
    transposeRun(dy + ((b * Ho + i) * Wo) * g.C + lo, g.C, row, Wo, count, Wo, 0.25f);
    for (int64_t c = 0; c < count; ++c) {
      float* r0 = dst + c * cs + (2 * i + g.h) * g.Wk + g.h;
      float* r1 = r0 + g.Wk;
      const float* in = row + c * Wo;
      for (int64_t j = 0; j < Wo; ++j) r0[2 * j] = r0[2 * j + 1] = r1[2 * j] = r1[2 * j + 1] = in[j];
    }
  }
}

/** The gradient of poolNhwc: the pooled dy [B, H/2, W/2, C] × 1/4 at each of the four pixels it averaged. */
void unpoolNhwc(const Geometry& g, const float* dy, float* dx) {
  const int64_t Ho = g.H / 2, Wo = g.W / 2, C = g.C;
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t i = 0; i < g.H; ++i) {
      for (int64_t j = 0; j < g.W; ++j) {
        const float* in = dy + ((b * Ho + i / 2) * Wo + j / 2) * C;
        float* out = dx + ((b * g.H + i) * g.W + j) * C;
        for (int64_t c = 0; c < C; ++c) out[c] = 0.25f * in[c];
      }
    }
  }
}

/**
 * [count][H][Wq] → channels [lo, lo + count) of image b of NHWC x (pixel stride ld), × mul, then the epilogue
 * (each row while it is in cache).
 */
void headsFromPlanar(const Geometry& g, const float* src, int64_t count, float mul, float* x, int64_t ld, int64_t b,
                     int64_t lo, const Epilogue& epilogue = Epilogue{}) {
  const int64_t plane = g.H * g.Wq;
  for (int64_t i = 0; i < g.H; ++i) {
    float* row = x + ((b * g.H + i) * g.W) * ld;
    transposeRun(src + i * g.Wq, plane, row + lo, ld, g.W, count, mul);
    if (epilogue.any()) epilogue.apply(row, ld, g.W, lo, count);
  }
}

/**
 * [count][H][Wq] (H, W even) 2×2-averaged into channels [lo, lo + count) of image b of NHWC y [B, H/2, W/2, C],
 * then the epilogue's bias and ReLU; one pooled row at a time through `pooled` [count][W/2].
 */
void headsFromPlanarPooled(const Geometry& g, const float* src, int64_t count, float* y, int64_t b, int64_t lo,
                           const Epilogue& epilogue, float* pooled) {
  const int64_t plane = g.H * g.Wq, Ho = g.H / 2, Wo = g.W / 2;
  for (int64_t i = 0; i < Ho; ++i) {
    for (int64_t c = 0; c < count; ++c) {
      const float* r0 = src + c * plane + 2 * i * g.Wq;
      const float* r1 = r0 + g.Wq;
      float* out = pooled + c * Wo;
      for (int64_t j = 0; j < Wo; ++j) out[j] = 0.25f * ((r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]));
    }
    float* row = y + ((b * Ho + i) * Wo) * g.C;
    transposeRun(pooled, Wo, row + lo, g.C, Wo, count, 1.0f);
    if (epilogue.any()) epilogue.apply(row, g.C, Wo, lo, count);
  }
}

/** NHWC x [B, H, W, C] (H, W even) 2×2-averaged into y [B, H/2, W/2, C], as headsFromPlanarPooled sums. */
void poolNhwc(const Geometry& g, const float* x, float* y) {
  const int64_t Ho = g.H / 2, Wo = g.W / 2, C = g.C;
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t i = 0; i < Ho; ++i) {
      for (int64_t j = 0; j < Wo; ++j) {
        const float* p00 = x + ((b * g.H + 2 * i) * g.W + 2 * j) * C;
        const float* p10 = p00 + g.W * C;
        float* out = y + ((b * Ho + i) * Wo + j) * C;
        for (int64_t c = 0; c < C; ++c) out[c] = 0.25f * ((p00[c] + p00[C + c]) + (p10[c] + p10[C + c]));
      }
    }
  }
}

/**
 * The window size k and k² of a Task: constants for the compiled sizes (so that the loops over the
 * window unroll and their sums stay in registers), members for the runtime size (KT 0).
 */
template <int KT>
struct WindowSize {
  static constexpr int64_t K = KT, KK = KT * KT;
  explicit WindowSize(int64_t) {}
};
template <>
struct WindowSize<0> {
  const int64_t K, KK;
  explicit WindowSize(int64_t k) : K(k), KK(k * k) {}
};

/**
 * The backward's rows of P or dS, [k²][Wk] each (a query row's data at column h, zero margins),
 * for the most recent `rows` query rows: query row i in slot i mod rows.
 */
struct RowRing {
  float* base;
  int64_t rows, stride;
  float* row(int64_t i) const { return base + i % rows * stride; }
};

/** One (image, head) task: its channel-major buffers and the window computations on them. */
template <int KT>
struct Task : WindowSize<KT> {
  using WindowSize<KT>::K;
  using WindowSize<KT>::KK;
  const Geometry& g;
  const int64_t lo, hi, rowHi, colLo;
  const int64_t cs;  // channel stride of the padded buffers: Hp · Wk
  std::vector<float> colMask;
  vf rel[2 * (KT ? KT : kMaxWindow)];

  Task(const Geometry& geometry, int64_t n)
      : WindowSize<KT>(geometry.K), g(geometry), lo(n * geometry.D), hi(lo + geometry.D),
        rowHi(std::min(hi, geometry.half)), colLo(std::max(lo, geometry.half)),
        cs(geometry.Hp * geometry.Wk), colMask(g.masked ? K * geometry.Wq : 0, 0.0f) {
    for (int64_t db = 0; g.masked && db < K; ++db) {
      for (int64_t j = 0; j < g.W; ++j) {
        const int64_t b = j + db - g.h;
        if (b < 0 || b >= g.W) colMask[db * g.Wq + j] = -std::numeric_limits<float>::infinity();
      }
    }
  }

  /**
   * acc[db] = Σ_c a_c · b_c[db..db+VL), over the head's channels (channel stride cs). The sums run
   * in local accumulators (registers, with the window size known) and are stored once at the end:
   * callers' arrays indexed by a runtime row live in memory.
   */
  void windowDots(const float* a, const float* b, vf* acc) const {
    constexpr int64_t maxK = KT ? KT : kMaxWindow;
    vf s[maxK];
    for (int64_t db = 0; db < K; ++db) s[db] = vf{};
    for (int64_t c = 0; c < g.D; ++c) {
      const vf av = loadu(a + c * cs);
      const float* bc = b + c * cs;
      for (int64_t db = 0; db < K; ++db) s[db] += av * loadu(bc + db);
    }
    for (int64_t db = 0; db < K; ++db) acc[db] = s[db];
  }

  /** windowDots for two query rows' a0, a1 against the same b: each b vector loaded serves both. */
  void windowDotsPair(const float* a0, const float* a1, const float* b, vf* acc0, vf* acc1) const {
    constexpr int64_t maxK = KT ? KT : kMaxWindow;
    vf s0[maxK], s1[maxK];
    for (int64_t db = 0; db < K; ++db) s0[db] = s1[db] = vf{};
    for (int64_t c = 0; c < g.D; ++c) {
      const vf av0 = loadu(a0 + c * cs), av1 = loadu(a1 + c * cs);
      const float* bc = b + c * cs;
      for (int64_t db = 0; db < K; ++db) {
        const vf bv = loadShared(bc + db);
        s0[db] += av0 * bv;
        s1[db] += av1 * bv;
      }
    }
    for (int64_t db = 0; db < K; ++db) acc0[db] = s0[db], acc1[db] = s1[db];
  }

  /** The relative logits of a query chunk: rowL[da] = q̂_row · relRow[da], colL[db] = q̂_col · relCol[db]. */
  void relativeLogits(const float* qchunk, const float* relRow, const float* relCol, vf* rowL, vf* colL) const {
    for (int64_t t = 0; t < K; ++t) rowL[t] = colL[t] = vf{};
    for (int64_t c = lo; c < hi && g.useQR; ++c) {
      const vf qv = loadu(qchunk + (c - lo) * cs);
      if (c < g.half) {
        for (int64_t t = 0; t < K; ++t) rowL[t] += qv * relRow[t * g.half + c];
      } else {
        for (int64_t t = 0; t < K; ++t) colL[t] += qv * relCol[t * g.half + c - g.half];
      }
    }
  }

  /**
   * Logits of query rows i .. i + rows - 1 (rows 1 or 2) into L + r · rowStride (row i + r) at
   * [w · ls + j] (w = da·k + db); with rowMax, also their maximum over the window into
   * rowMax[r · Wq / VL + j / VL] (computed as they are stored, where it costs no extra pass). Two
   * rows share their key rows: key row i + t is row i's da = t and row i + 1's da = t - 1.
   */
  void logits(int64_t i, int64_t rows, const float* q, const float* k, const float* relRow, const float* relCol,
              float* L, int64_t rowStride, int64_t ls, vf* rowMax = nullptr) const {
    constexpr float ninf = -std::numeric_limits<float>::infinity();
    constexpr int64_t maxK = KT ? KT : kMaxWindow;
    vf acc[2][maxK], rowL[2][maxK], colL[2][maxK];
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      const float* qrow = q + (i + g.h) * g.Wk + g.h + j0;
      vf m[2] = {splat(ninf), splat(ninf)};
      for (int64_t r = 0; r < rows; ++r) relativeLogits(qrow + r * g.Wk, relRow, relCol, rowL[r], colL[r]);
      for (int64_t t = 0; t < K + rows - 1; ++t) {
        const int64_t a = i + t - g.h;
        const bool outside = g.masked && (a < 0 || a >= g.H);
        const float* krow = k + (i + t) * g.Wk + j0;
        if (!g.useQK || outside) {
          for (int64_t db = 0; db < K; ++db) acc[0][db] = acc[1][db] = vf{};
        } else if (rows == 2) {
          windowDotsPair(qrow, qrow + g.Wk, krow, acc[0], acc[1]);
        } else {
          windowDots(qrow, krow, acc[0]);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t da = t - r;
          if (da < 0 || da >= K) continue;
          float* out = L + r * rowStride + da * K * ls + j0;
          for (int64_t db = 0; db < K; ++db) {
            vf l = outside ? splat(ninf) : acc[r][db] + rowL[r][da] + colL[r][db];
            if (g.masked && !outside) l += loadu(colMask.data() + db * g.Wq + j0);
            storeu(out + db * ls, l);
            m[r] = vmax(m[r], l);
          }
        }
      }
      for (int64_t r = 0; r < rows && rowMax; ++r) rowMax[r * (g.Wq / VL) + j0 / VL] = m[r];
    }
  }

  /**
   * out[c][i][chunk] += Σ_w Wt[w · ws + chunk] · b_c[row i + da][chunk + db] (D × H × Wq out); with
   * scale, out[c][i][chunk] = scale[chunk / VL] · Σ_w ... instead (out need not be initialised).
   */
  void windowSums(int64_t i, const float* Wt, int64_t ws, const float* b, float* out,
                  const vf* scale = nullptr) const {
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
        if (scale) {
          storeu(o, acc0 * scale[j0 / VL]);
          storeu(o + plane, acc1 * scale[j0 / VL]);
        } else {
          storeu(o, loadu(o) + acc0);
          storeu(o + plane, loadu(o + plane) + acc1);
        }
      }
      for (; c < g.D; ++c) {
        vf acc0{};
        for (int64_t da = 0; da < K; ++da) {
          const float* b0 = b + c * cs + (i + da) * g.Wk + j0;
          const float* w = Wt + da * K * ws + j0;
          for (int64_t db = 0; db < K; ++db) acc0 += loadu(w + db * ws) * loadu(b0 + db);
        }
        float* o = out + c * plane + i * g.Wq + j0;
        storeu(o, scale ? acc0 * scale[j0 / VL] : loadu(o) + acc0);
      }
    }
  }

  /**
   * windowSums for query rows i and i + 1 at once (weights Wt0 and Wt1, scales scale0 and scale1):
   * value row i + t serves row i at da = t and row i + 1 at da = t - 1, so every value vector
   * loaded (an unaligned load, mostly across two cache lines) serves both rows.
   */
  void windowSumsPair(int64_t i, const float* Wt0, const float* Wt1, int64_t ws, const float* b, float* out,
                      const vf* scale0, const vf* scale1) const {
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      int64_t c = 0;
      for (; c + 4 <= g.D; c += 4) sumChannelsPair<4>(i, j0, c, Wt0, Wt1, ws, b, out, scale0, scale1);
      for (; c < g.D; ++c) sumChannelsPair<1>(i, j0, c, Wt0, Wt1, ws, b, out, scale0, scale1);
    }
  }

  /** windowSumsPair for chunk j0 and channels c .. c + CH - 1: each weight loaded serves CH channels. */
  template <int CH>
  void sumChannelsPair(int64_t i, int64_t j0, int64_t c, const float* Wt0, const float* Wt1, int64_t ws,
                       const float* b, float* out, const vf* scale0, const vf* scale1) const {
    const int64_t plane = g.H * g.Wq;
    vf a0[CH] = {}, a1[CH] = {};  // rows i and i + 1
    for (int64_t t = 0; t <= K; ++t) {
      const float* bt = b + c * cs + (i + t) * g.Wk + j0;
      const float* w0 = Wt0 + t * K * ws + j0;
      const float* w1 = Wt1 + (t - 1) * K * ws + j0;
      for (int64_t db = 0; db < K; ++db) {
        vf v[CH];
        for (int e = 0; e < CH; ++e) v[e] = loadShared(bt + e * cs + db);
        if (t < K) {
          const vf w = loadShared(w0 + db * ws);
          for (int e = 0; e < CH; ++e) a0[e] += w * v[e];
        }
        if (t > 0) {
          const vf w = loadShared(w1 + db * ws);
          for (int e = 0; e < CH; ++e) a1[e] += w * v[e];
        }
      }
    }
    for (int e = 0; e < CH; ++e) {
      float* o = out + (c + e) * plane + i * g.Wq + j0;
      put(o, a0[e], scale0, j0);
      put(o + g.Wq, a1[e], scale1, j0);
    }
  }

  /** o[chunk j0] = scale[j0 / VL] · acc, or o += acc without scale. */
  static void put(float* o, vf acc, const vf* scale, int64_t j0) {
    storeu(o, scale ? acc * scale[j0 / VL] : loadu(o) + acc);
  }

  /**
   * windowSums over all query rows, two at a time (row i's weights at Wt + i · rowStride, its
   * scales, if any, at scale + i · Wq / VL).
   */
  void windowSumsRows(const float* Wt, int64_t rowStride, int64_t ws, const float* b, float* out, int64_t i0,
                      int64_t rows, const vf* scale) const {
    const int64_t chunks = g.Wq / VL;
    for (int64_t r = 0; r < rows; r += 2) {
      const float* w = Wt + r * rowStride;
      const vf* s0 = scale ? scale + r * chunks : nullptr;
      if (r + 1 < rows) {
        windowSumsPair(i0 + r, w, w + rowStride, ws, b, out, s0, scale ? s0 + chunks : nullptr);
      } else {
        windowSums(i0 + r, w, ws, b, out, s0);
      }
    }
  }

  /**
   * For the in-image keys (a, x) of key rows [a0, a1): out[c][a][x] = Σ over the queries (i, j) =
   * (a + h - da, x + h - db) that saw it of Wt_i[w][j] · src_c[i][j]. Wt: the rows of P or dS
   * (RowRing, holding every query row the keys need), src: padded [D][Hp][Wk]. Key rows go in
   * pairs from a0, the last one alone when a1 - a0 is odd.
   */
  void keyGather(const RowRing& Wt, const float* src, float* out, int64_t a0, int64_t a1) const {
    const float* rows[(KT ? KT : kMaxWindow) + 1];  // the query rows' Wt, from the last one; null: outside
    const auto collect = [&](int64_t last, int64_t count) {
      for (int64_t u = 0; u < count; ++u) {
        const int64_t i = last - u;
        rows[u] = i >= 0 && i < g.H ? Wt.row(i) : nullptr;
      }
    };
    int64_t ka = a0;
    for (; ka + 2 <= a1; ka += 2) {
      collect(ka + 1 + g.h, K + 1);
      for (int64_t x0 = 0; x0 < g.Wq; x0 += VL) {
        int64_t c = 0;
        for (; c + 4 <= g.D; c += 4) gatherChannelsPair<4>(ka, x0, c, rows, src, out);
        for (; c < g.D; ++c) gatherChannelsPair<1>(ka, x0, c, rows, src, out);
      }
    }
    for (; ka < a1; ++ka) {
      collect(ka + g.h, K);
      for (int64_t x0 = 0; x0 < g.Wq; x0 += VL) {
        int64_t c = 0;
        for (; c + 4 <= g.D; c += 4) gatherChannels<4>(ka, x0, c, rows, src, out);
        for (; c < g.D; ++c) gatherChannels<1>(ka, x0, c, rows, src, out);
      }
    }
  }

  /**
   * keyGather's sums for key chunk (ka, x0) and channels c .. c + CH - 1 (rows[da]: Wt of query row
   * ka + h - da): each weight loaded serves CH channels.
   */
  template <int CH>
  void gatherChannels(int64_t ka, int64_t x0, int64_t c, const float* const* rows, const float* src,
                      float* out) const {
    const int64_t plane = g.H * g.Wq;
    vf acc[CH] = {};
    for (int64_t da = 0; da < K; ++da) {
      const int64_t i = ka + g.h - da;
      if (!rows[da]) continue;
      const float* w = rows[da] + da * K * g.Wk + g.h + x0 + g.h;
      const float* s = src + c * cs + (i + g.h) * g.Wk + g.h + x0 + g.h;
      for (int64_t db = 0; db < K; ++db) {
        const vf wv = loadu(w + db * g.Wk - db);
        for (int e = 0; e < CH; ++e) acc[e] += wv * loadu(s + e * cs - db);
      }
    }
    for (int e = 0; e < CH; ++e) storeu(out + (c + e) * plane + ka * g.Wq + x0, acc[e]);
  }

  /**
   * gatherChannels for key rows ka and ka + 1 at once: query row i = ka + 1 + h - u is row ka + 1's
   * da = u and row ka's da = u - 1, so every source vector loaded serves both key rows (the sums
   * over da run in the same order as gatherChannels'). rows[u]: Wt of query row ka + 1 + h - u.
   */
  template <int CH>
  void gatherChannelsPair(int64_t ka, int64_t x0, int64_t c, const float* const* rows, const float* src,
                          float* out) const {
    const int64_t plane = g.H * g.Wq;
    vf acc0[CH] = {}, acc1[CH] = {};  // key rows ka and ka + 1
    for (int64_t u = 0; u <= K; ++u) {
      const int64_t i = ka + 1 + g.h - u;
      if (!rows[u]) continue;
      const float* wi = rows[u] + g.h + x0 + g.h;
      const float* s = src + c * cs + (i + g.h) * g.Wk + g.h + x0 + g.h;
      const float* w0 = wi + std::max<int64_t>(u - 1, 0) * K * g.Wk;  // row ka's da = u - 1 (u > 0)
      const float* w1 = wi + std::min(u, K - 1) * K * g.Wk;           // row ka + 1's da = u (u < K)
      for (int64_t db = 0; db < K; ++db) {
        vf sv[CH];
        for (int e = 0; e < CH; ++e) sv[e] = loadShared(s + e * cs - db);
        if (u > 0) {
          const vf wv = loadShared(w0 + db * g.Wk - db);
          for (int e = 0; e < CH; ++e) acc0[e] += wv * sv[e];
        }
        if (u < K) {
          const vf wv = loadShared(w1 + db * g.Wk - db);
          for (int e = 0; e < CH; ++e) acc1[e] += wv * sv[e];
        }
      }
    }
    for (int e = 0; e < CH; ++e) {
      storeu(out + (c + e) * plane + ka * g.Wq + x0, acc0[e]);
      storeu(out + (c + e) * plane + (ka + 1) * g.Wq + x0, acc1[e]);
    }
  }

  /**
   * The backward's P and dS of query rows i .. i + rows - 1 (rows 1 or 2) at P + r · rs and
   * dS + r · rs (rs = k² · Wk; row w at [w · Wk + j]): P[w] = exp(L[w] - lse), dP[w] = dy · v_w
   * over the head's channels, dS[w] = P[w] (dP[w] - Σ_w' P[w'] dP[w']). lse: the head's entry of
   * the image's pixel (0, 0), pixel stride N. Two rows share their logits' key rows and their value
   * rows: value row i + t is row i's da = t and row i + 1's da = t - 1. With sameDy (the two rows'
   * dy are equal, as the rows of a 2×2 pooling cell are), row i + 1's dP[da - 1] is row i's dP[da]:
   * computed once (the same sums in the same order, so bit for bit what two passes give).
   */
  void softmaxGrads(int64_t i, int64_t rows, const float* Q, const float* Kb, const float* V, const float* DY,
                    const float* relRow, const float* relCol, const float* lse, float* P, float* dS,
                    bool sameDy) const {
    constexpr int64_t maxK = KT ? KT : kMaxWindow;
    const int64_t rs = KK * g.Wk;
    const int64_t wk = g.Wk;  // a local: the vector stores (memcpy) could alias g, so g.Wk is reloaded
    vf acc[2][maxK];
    logits(i, rows, Q, Kb, relRow, relCol, P, rs, g.Wk);
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* lrow = lse + (i + r) * g.W * g.N;
        vf l{};
        for (int64_t e = 0; e < VL; ++e) {
          l[e] = j0 + e < g.W ? lrow[(j0 + e) * g.N] : std::numeric_limits<float>::infinity();
        }
        float* Pr = P + r * rs;
        for (int64_t w = 0; w < KK; ++w) {
          const vf x = loadu(Pr + w * wk + j0) - l;
          storeu(Pr + w * wk + j0, expNonPositive(vmin(x, vf{})));
        }
      }
      const float* dyrow = DY + (i + g.h) * g.Wk + g.h + j0;
      vf delta[2] = {};
      for (int64_t kr = 0; kr < K + rows - 1; ++kr) {  // value row i + kr: da = kr - r for row i + r
        const float* vrow = V + (i + kr) * g.Wk + j0;
        if (rows == 2 && !sameDy) {
          windowDotsPair(dyrow, dyrow + g.Wk, vrow, acc[0], acc[1]);
        } else {
          windowDots(dyrow, vrow, acc[0]);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t da = kr - r;
          if (da < 0 || da >= K) continue;
          const vf* dP = acc[sameDy ? 0 : r];
          for (int64_t db = 0; db < K; ++db) {
            const int64_t at = r * rs + (da * K + db) * wk + j0;
            storeu(dS + at, dP[db]);
            delta[r] += loadu(P + at) * dP[db];
          }
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t w = 0; w < KK; ++w) {
          const int64_t at = r * rs + w * wk + j0;
          storeu(dS + at, loadu(P + at) * (loadu(dS + at) - delta[r]));
        }
      }
    }
  }

  /**
   * Query row i's relative-logit gradients from its dS (row w at [w · Wk + j]): with dRow[da] =
   * Σ_db dS[da, db] and dCol[db] = Σ_da dS[da, db], dq_c[i] = Σ_e d[e] · table[e][c] (stored: each
   * dq entry's first term; DQ: the head's [D][H][Wq]) and relV[c][e] += d[e] · q̂_c (relV: the
   * head's [D][2][k] partial sums over its pixels, d and table those of channel c's half).
   */
  void relativeGrads(int64_t i, const float* dS, const float* Q, const float* relRow, const float* relCol, float* DQ,
                     vf* relV) {
    vf* rowS = rel;
    vf* colS = rel + K;
    for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
      for (int64_t e = 0; e < 2 * K; ++e) rel[e] = vf{};
      for (int64_t da = 0; da < K; ++da) {
        for (int64_t db = 0; db < K; ++db) {
          const vf d = loadu(dS + (da * K + db) * g.Wk + j0);
          rowS[da] += d;
          colS[db] += d;
        }
      }
      for (int64_t c = lo; c < hi; ++c) {
        const bool isRow = c < g.half;
        const float* table = isRow ? relRow + c : relCol + (c - g.half);
        const vf* sums = isRow ? rowS : colS;
        const vf qv = loadu(Q + (c - lo) * cs + (i + g.h) * g.Wk + g.h + j0);
        float* dqc = DQ + ((c - lo) * g.H + i) * g.Wq + j0;
        vf dqv{};  // the first term of this dq entry
        vf* racc = relV + ((c - lo) * 2 + (isRow ? 0 : 1)) * K;
        for (int64_t e = 0; e < K; ++e) {
          dqv += sums[e] * table[e * g.half];
          racc[e] += sums[e] * qv;
        }
        storeu(dqc, dqv);
      }
    }
  }
};

/** Channels [lo, lo + count) of image b of q (scaled), k (when used) and v into one task's planar buffers. */
void layOutHeads(const Geometry& g, const float* q, const float* k, const float* v, int64_t b, int64_t lo,
                 int64_t count, float* Q, float* Kb, float* V) {
  headsToPlanar(g, q, g.ld, b, lo, count, g.scale, Q);
  if (g.useQK) headsToPlanar(g, k, g.ld, b, lo, count, 1.0f, Kb);
  headsToPlanar(g, v, g.ld, b, lo, count, 1.0f, V);
}

/**
 * The heads of one task: `groups` groups of `heads` consecutive heads (`channels` = heads · D). A task
 * lays out (and writes back) its group's channels together, so each pixel's channels are read and
 * written in whole cache lines once, not once per head; the groups are as few as leave every thread
 * two tasks or more. With bytesPerChannel (the task's buffers' bytes per channel: the forward's q, k,
 * v and y, the backward's seven), more groups where a group's buffers would not fit in kGroupBytes,
 * down to 8 channels (a whole transpose block) a group: a task's buffers then stay near L2 between
 * their layout and the row stream over them, for the price of reading a pixel's cache lines once per
 * group. At 56² (k 7, D 16) one head's seven buffers (q, k, v, dy, dq, dk, dv) take ~1.8 MB, all 8
 * heads' ~14 MB; single heads made the backward ~10-20 % faster at 56² and 28² (C 256), while at 28²
 * with C 128 they were ~4 % slower than groups of 1 MB. The forward at 56² (C 128, pooled) gained ~10
 * % on one thread, ~25 % on two; elsewhere it is within noise.
 */
struct HeadGroups {
  static constexpr int64_t kGroupBytes = 1 << 20;  // about a core's L2 (Zen 4: 1 MB)
  int64_t groups, heads, channels;
  explicit HeadGroups(const Geometry& g, int64_t bytesPerChannel = 0) : groups(fewestGroups(g.N, g.B)) {
    for (int64_t n = groups + 1; n <= g.N && g.N / groups * g.D * bytesPerChannel > kGroupBytes; ++n) {
      if (g.N % n == 0 && g.N / n * g.D >= 8) groups = n;
    }
    heads = g.N / groups;
    channels = heads * g.D;
  }
};

template <int KT>
void forwardImpl(const Geometry& g, const float* q, const float* k, const float* v,
                 const float* relRow, const float* relCol, float* y, float* lse, const Epilogue& epilogue) {
  const int64_t cs = g.Hp * g.Wk, plane = g.H * g.Wq;
  const HeadGroups hg(g, static_cast<int64_t>(sizeof(float)) * (3 * cs + plane));
  const int64_t padded = hg.channels * cs, local = hg.channels * plane;
#pragma omp parallel
  {
    FlushDenormals ftz;
    float* Qg = zeroedThreadBuffer(kQ, padded, g);
    float* Kg = g.useQK ? zeroedThreadBuffer(kK, padded, g) : nullptr;
    float* Vg = zeroedThreadBuffer(kV, padded, g);
    float* Yg = threadBuffer(kOut0, local);
    const int64_t chunks = g.Wq / VL, rowL = g.K * g.K * g.Wq;
    const int64_t wq = g.Wq;  // a local: the vector stores (memcpy) could alias g, so g.Wq is reloaded
    float* Lpair = threadBuffer(kL, 2 * rowL);  // two query rows' logits, then softmax numerators
    std::vector<vf> rowMax(2 * chunks), invSum(2 * chunks);
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < g.B * hg.groups; ++task) {
      const int64_t b = task / hg.groups, n0 = task % hg.groups * hg.heads, lo = n0 * g.D;
      layOutHeads(g, q, k, v, b, lo, hg.channels, Qg, Kg, Vg);
      for (int64_t n = n0; n < n0 + hg.heads; ++n) {
        Task<KT> t(g, n);
        const int64_t at = t.lo - lo;  // the head's first channel in the group's buffers
        const float *Q = Qg + at * cs, *Kb = g.useQK ? Kg + at * cs : nullptr, *V = Vg + at * cs;
        float* Y = Yg + at * plane;
        for (int64_t i0 = 0; i0 < g.H; i0 += 2) {
          // two query rows at a time: L ← exp(L - max); y = (Σ_w L_w v_w) / Σ_w L_w, the division
          // folded into the window sums
          const int64_t rows = std::min<int64_t>(2, g.H - i0);
          t.logits(i0, rows, Q, Kb, relRow, relCol, Lpair, rowL, g.Wq, rowMax.data());
          for (int64_t r = 0, i = i0; r < rows; ++r, ++i) {
            float* L = Lpair + r * rowL;
            vf* inv = invSum.data() + r * chunks;
            for (int64_t j0 = 0; j0 < g.Wq; j0 += VL) {
              const vf m = rowMax[r * chunks + j0 / VL];
              vf sum{};
              for (int64_t w = 0; w < t.KK; ++w) {
                const vf e = expNonPositive(loadu(L + w * wq + j0) - m);
                storeu(L + w * wq + j0, e);
                sum += e;
              }
              inv[j0 / VL] = 1.0f / sum;
              if (!lse) continue;
              float* lrow = lse + ((b * g.H + i) * g.W) * g.N + n;
              for (int64_t l = 0; l < VL && j0 + l < g.W; ++l) lrow[(j0 + l) * g.N] = m[l] + std::log(sum[l]);
            }
          }
          t.windowSumsRows(Lpair, rowL, g.Wq, V, Y, i0, rows, invSum.data());
        }
      }
      if (epilogue.pool) {
        headsFromPlanarPooled(g, Yg, hg.channels, y, b, lo, epilogue, threadBuffer(kOut1, hg.channels * g.W / 2));
      } else {
        headsFromPlanar(g, Yg, hg.channels, 1.0f, y, g.C, b, lo, epilogue);
      }
    }
  }
}


/**
 * dRel gets one slice [dRelRow | dRelCol] per image, each entry written by one task only (the
 * heads own disjoint channels), so the sum over the images in order does not depend on the
 * threads.
 */
template <int KT>
void backwardImpl(const Geometry& g, const float* dy, const float* q, const float* k,
                  const float* v, const float* relRow, const float* relCol, const float* lse,
                  Grads out, std::vector<double>& dRel, bool pooled) {
  const int64_t tableSize = g.useQR ? g.K * g.half : 0;
  dRel.assign(static_cast<size_t>(g.B) * 2 * tableSize, 0.0);
  const int64_t cs = g.Hp * g.Wk, plane = g.H * g.Wq;
  const HeadGroups hg(g, static_cast<int64_t>(sizeof(float)) * (4 * cs + 3 * plane));
  const int64_t padded = hg.channels * cs, local = hg.channels * plane;
  const int64_t K = KT ? KT : g.K, KK = K * K;
  const int64_t rs = KK * g.Wk;  // one query row of P or dS
  // P and dS keep the last ringRows query rows: key rows a and a + 1 need query rows a + 1 + h - k
  // .. a + 1 + h and are gathered once those are done, at the latest with query row a + 2 + h, so
  // k + 2 rows do (made even, so that a query row pair's slots are adjacent; and no more than H)
  const int64_t ringRows = std::min((K + 3) / 2 * 2, g.H + g.H % 2);
#pragma omp parallel
  {
    FlushDenormals ftz;
    float* Qg = zeroedThreadBuffer(kQ, padded, g);
    float* Kg = g.useQK ? zeroedThreadBuffer(kK, padded, g) : nullptr;
    float* Vg = zeroedThreadBuffer(kV, padded, g);
    float* DYg = zeroedThreadBuffer(kDy, padded, g);
    float* DQg = threadBuffer(kOut0, local);
    float* DKg = g.useQK ? threadBuffer(kOut1, local) : nullptr;
    float* DVg = threadBuffer(kOut2, local);
    // P and dS rows: [k²][Wk], the row's data at column h; the zero margins (which the key gathers
    // read) are never written
    const RowRing Pring{zeroedThreadBuffer(kL, ringRows * rs, g), ringRows, rs};
    const RowRing dSring{zeroedThreadBuffer(kAux, ringRows * rs, g), ringRows, rs};
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < g.B * hg.groups; ++task) {
      const int64_t b = task / hg.groups, n0 = task % hg.groups * hg.heads, lo = n0 * g.D;
      layOutHeads(g, q, k, v, b, lo, hg.channels, Qg, Kg, Vg);
      if (pooled) {
        headsToPlanarUnpooled(g, dy, b, lo, hg.channels, DYg, threadBuffer(kRow, hg.channels * g.W / 2));
      } else {
        headsToPlanar(g, dy, g.C, b, lo, hg.channels, 1.0f, DYg);
      }
      // with relative logits their dq terms are each dq entry's first (a store), else the window sums add to zeros
      if (!g.useQR) std::fill(DQg, DQg + local, 0.0f);
      for (int64_t n = n0; n < n0 + hg.heads; ++n) {
        Task<KT> t(g, n);
        const int64_t at = t.lo - lo;  // the head's first channel in the group's buffers
        const float *Q = Qg + at * cs, *Kb = g.useQK ? Kg + at * cs : nullptr, *V = Vg + at * cs, *DY = DYg + at * cs;
        float *DQ = DQg + at * plane, *DK = g.useQK ? DKg + at * plane : nullptr, *DV = DVg + at * plane;
        std::vector<vf> relV(g.useQR ? 2 * K * g.D : 0);
        const float* headLse = lse + b * g.H * g.W * g.N + n;
        int64_t keys = 0;  // key rows [0, keys) have their dk and dv
        for (int64_t i = 0; i < g.H; i += 2) {
          const int64_t rows = std::min<int64_t>(2, g.H - i);  // query rows i and i + 1: adjacent slots
          float* P = Pring.row(i) + g.h;
          float* dS = dSring.row(i) + g.h;
          t.softmaxGrads(i, rows, Q, Kb, V, DY, relRow, relCol, headLse, P, dS, pooled);  // i even: a pooling cell's rows
          for (int64_t r = 0; r < rows && g.useQR; ++r) {
            t.relativeGrads(i + r, dS + r * rs, Q, relRow, relCol, DQ, relV.data());
          }
          if (g.useQK) t.windowSumsRows(dS, rs, g.Wk, Kb, DQ, i, rows, nullptr);
          // key row a has all its queries once rows up to min(a + h, H - 1) are done: those go in
          // pairs as they complete, the last odd one with the last query rows
          const int64_t done = i + rows;
          const int64_t ready = done == g.H ? g.H : keys + std::max<int64_t>(done - g.h - keys, 0) / 2 * 2;
          if (ready == keys) continue;
          if (g.useQK) t.keyGather(dSring, Q, DK, keys, ready);
          t.keyGather(Pring, DY, DV, keys, ready);
          keys = ready;
        }
        double* relAcc = dRel.data() + static_cast<size_t>(b) * 2 * tableSize;
        for (int64_t c = t.lo; c < t.hi && g.useQR; ++c) {
          const bool isRow = c < g.half;
          const int64_t col = isRow ? c : c - g.half;
          const vf* racc = relV.data() + ((c - t.lo) * 2 + (isRow ? 0 : 1)) * K;
          double* accOut = relAcc + (isRow ? 0 : tableSize);
          for (int64_t e = 0; e < K; ++e) accOut[e * g.half + col] = hsum(racc[e]);
        }
      }
      // The planar dq holds Σ dS (k + r); dq = scale · that.
      headsFromPlanar(g, DQg, hg.channels, g.scale, out.dq, g.ld, b, lo);
      if (g.useQK) headsFromPlanar(g, DKg, hg.channels, 1.0f, out.dk, g.ld, b, lo);
      headsFromPlanar(g, DVg, hg.channels, 1.0f, out.dv, g.ld, b, lo);
    }
  }
}

void smallForward(const Geometry& g, const float* q, const float* k, const float* v,
                  const float* relRow, const float* relCol, float* y, float* lse) {
  const SmallPlan plan(g, relRow, relCol);
  const int64_t image = plan.S * g.C, packed = plan.S * g.ld;
  // One image is one thread's work: no region (a fork and a barrier for nothing; RetinaNet's P5-P7 at batch 1).
#pragma omp parallel if (g.B > 1)
  {
    FlushDenormals ftz;
    SmallHead w(plan, false);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.B; ++b) {
      for (int64_t n = 0; n < g.N; ++n) {
        smallHeadForward(w, q + b * packed, g.useQK ? k + b * packed : nullptr, v + b * packed, n, y + b * image,
                         lse + b * plan.S * g.N);
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
  const int64_t image = plan.S * g.C, packed = plan.S * g.ld;
#pragma omp parallel num_threads(threads) if (g.B > 1)
  {
    FlushDenormals ftz;
    SmallHead w(plan, true);
    double* accRow = dRel.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * tableSize;
    double* accCol = accRow + tableSize;
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.B; ++b) {
      const int64_t at = b * packed;
      for (int64_t n = 0; n < g.N; ++n) {
        smallHeadBackward(w, dy + b * image, q + at, g.useQK ? k + at : nullptr, v + at, lse + b * plan.S * g.N, n,
                          out.dq + at, g.useQK ? out.dk + at : nullptr, out.dv + at, accRow, accCol);
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

/** The attention's inputs q, k, v, relRow, relCol: arguments first … first + 4, checked against g. */
struct Inputs {
  const float *q, *k, *v, *relRow, *relCol;
};

Inputs inputsAt(const Napi::CallbackInfo& info, size_t first, const Geometry& g) {
  const int64_t tableSize = g.useQR ? g.K * g.half : 0;
  return {floatArg(info, first, "q", g.strided()), floatArg(info, first + 1, "k", g.useQK ? g.strided() : 0),
          floatArg(info, first + 2, "v", g.strided()), floatArg(info, first + 3, "relRow", tableSize),
          floatArg(info, first + 4, "relCol", tableSize)};
}

/** Argument i, optional: whether y is 2×2-average-pooled (H and W must then be even). */
bool poolArg(const Napi::CallbackInfo& info, size_t i, const Geometry& g, const char* op) {
  const bool pool = i < info.Length() && !info[i].IsUndefined() && boolArg(info, i, "pool");
  if (pool && (g.H % 2 != 0 || g.W % 2 != 0)) fail(op, "pool needs an even height and width");
  return pool;
}

/** Pixels of y: B·H·W, or B·(H/2)·(W/2) pooled. */
int64_t outputPixels(const Geometry& g, bool pool) { return pool ? g.B * (g.H / 2) * (g.W / 2) : g.B * g.H * g.W; }

/**
 * localAttentionForward(q, k, v, relRow, relCol, y, lse, geometry[, pool])
 * geometry: the object Geometry::from reads. Unused inputs may be empty. With pixelStride (> C),
 * q, k, v (and dq, dk, dv) are views into one packed tensor: pixel p's channels start at p·pixelStride.
 * With pool (H, W even), y [B, H/2, W/2, C] is the attention's 2×2 average with stride 2 (lse stays per pixel).
 */
Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guarded(info, "localAttention2d", [&] {
    const Geometry g = Geometry::from(objectArg(info, 7, "geometry"));
    const auto [q, k, v, relRow, relCol] = inputsAt(info, 0, g);
    const bool pool = poolArg(info, 8, g, "localAttention2d");
    float* y = floatArg(info, 5, "y", outputPixels(g, pool) * g.C);
    float* lse = floatArg(info, 6, "lse", g.B * g.H * g.W * g.N);
    if (smallImages(g)) {
      std::vector<float> full(pool ? static_cast<size_t>(g.size()) : 0);
      smallForward(g, q, k, v, relRow, relCol, pool ? full.data() : y, lse);
      if (pool) poolNhwc(g, full.data(), y);
    } else if (blockLanesFit(g)) {
      blockLanesForward(g, q, k, v, relRow, relCol, y, lse, Epilogue{nullptr, false, pool});
    } else {
      dispatchWindow<ForwardRun>(g.K, g, q, k, v, relRow, relCol, y, lse, Epilogue{nullptr, false, pool});
    }
  });
}

/**
 * localAttentionInference(q, k, v, relRow, relCol, bias, y, geometry, relu, pool): localAttentionForward's y
 * without lse (nothing kept for a gradient); with pool (H and W even) its 2×2 average with stride 2, y
 * [B, H/2, W/2, C]; then y + bias (bias [C], or empty for none) and max(·, 0) with relu: a batch norm folded
 * into W_V and its ReLU, at inference.
 */
Napi::Value Inference(const Napi::CallbackInfo& info) {
  return guarded(info, "localAttention2d (inference)", [&] {
    const Geometry g = Geometry::from(objectArg(info, 7, "geometry"));
    const auto [q, k, v, relRow, relCol] = inputsAt(info, 0, g);
    floatArg(info, 5, "bias", 0);  // a Float32Array: [C], or empty for no bias
    const bool hasBias = info[5].As<Napi::Float32Array>().ElementLength() > 0;
    const Epilogue epilogue{hasBias ? floatArg(info, 5, "bias", g.C) : nullptr, boolArg(info, 8, "relu"),
                            boolArg(info, 9, "pool")};
    if (epilogue.pool && (g.H % 2 != 0 || g.W % 2 != 0)) fail("localAttention2d", "pool needs an even height and width");
    const int64_t pixels = outputPixels(g, epilogue.pool);
    float* y = floatArg(info, 6, "y", pixels * g.C);
    if (smallImages(g)) {
      std::vector<float> lse(static_cast<size_t>(g.B * g.H * g.W * g.N));
      std::vector<float> full(epilogue.pool ? static_cast<size_t>(g.size()) : 0);
      smallForward(g, q, k, v, relRow, relCol, epilogue.pool ? full.data() : y, lse.data());
      if (epilogue.pool) poolNhwc(g, full.data(), y);
      if (epilogue.any()) epilogue.apply(y, g.C, pixels, 0, g.C);
    } else if (blockLanesFit(g)) {
      blockLanesForward(g, q, k, v, relRow, relCol, y, nullptr, epilogue);
    } else {
      dispatchWindow<ForwardRun>(g.K, g, q, k, v, relRow, relCol, y, nullptr, epilogue);
    }
  });
}

/**
 * localAttentionBackward(dy, q, k, v, relRow, relCol, lse, dq, dk, dv, dRelRow, dRelCol,
 *                        geometry[, pool]): gradients of Σ dy·y; with pool, of the pooled y (dy [B, H/2, W/2, C]).
 */
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, "localAttention2d (gradient)", [&] {
    const Geometry g = Geometry::from(objectArg(info, 12, "geometry"));
    const int64_t tableSize = g.useQR ? g.K * g.half : 0;
    const bool pool = poolArg(info, 13, g, "localAttention2d (gradient)");
    const float* dy = floatArg(info, 0, "dy", outputPixels(g, pool) * g.C);
    const auto [q, k, v, relRow, relCol] = inputsAt(info, 1, g);
    const float* lse = floatArg(info, 6, "lse", g.B * g.H * g.W * g.N);
    Grads out{floatArg(info, 7, "dq", g.strided()), floatArg(info, 8, "dk", g.useQK ? g.strided() : 0),
              floatArg(info, 9, "dv", g.strided())};
    float* dRelRow = floatArg(info, 10, "dRelRow", tableSize);
    float* dRelCol = floatArg(info, 11, "dRelCol", tableSize);
    std::vector<double> dRel;  // slices [dRelRow | dRelCol], per thread or per image
    if (smallImages(g)) {
      std::vector<float> full(pool ? static_cast<size_t>(g.size()) : 0);
      if (pool) unpoolNhwc(g, dy, full.data());
      smallBackward(g, pool ? full.data() : dy, q, k, v, relRow, relCol, lse, out, dRel);
    } else if (blockLanesFit(g)) {
      blockLanesBackward(g, dy, q, k, v, relRow, relCol, lse, out, dRel, pool);
    } else {
      dispatchWindow<BackwardRun>(g.K, g, dy, q, k, v, relRow, relCol, lse, out, dRel, pool);
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

/**
 * attentionExp(x, y, n): y[i] = e^x[i] for i < n, as the kernels' softmax computes it (x <= 0;
 * 0 below -87), with denormals flushed as in the kernels. For the tests of expNonPositive.
 */
Napi::Value Exp(const Napi::CallbackInfo& info) {
  return guarded(info, "attentionExp", [&] {
    const int64_t n = intArg(info, 2, "n");
    if (n < 0) fail("attentionExp", "n must be >= 0");
    const float* x = floatArg(info, 0, "x", n);
    float* y = floatArg(info, 1, "y", n);
    FlushDenormals ftz;
    for (int64_t i = 0; i < n; i += VL) {
      vf chunk{};
      for (int64_t e = 0; e < VL && i + e < n; ++e) chunk[e] = x[i + e];
      const vf out = expNonPositive(chunk);
      for (int64_t e = 0; e < VL && i + e < n; ++e) y[i + e] = out[e];
    }
  });
}

}  // namespace

void registerLocalAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("localAttentionForward", Napi::Function::New(env, Forward));
  exports.Set("localAttentionInference", Napi::Function::New(env, Inference));
  exports.Set("localAttentionBackward", Napi::Function::New(env, Backward));
  exports.Set("attentionExp", Napi::Function::New(env, Exp));
}

}  // namespace sasa