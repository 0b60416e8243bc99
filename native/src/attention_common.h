// Shared by the local attention kernels (local_attention.cc) and the fused attention stem
// (attention_stem.cc): the geometry of a call, the vector exp, denormal flushing.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "common.h"
#include "simd.h"

namespace sasa {
namespace attention {

inline float hsum(vf v) {
  float s = 0.0f;
  for (int64_t t = 0; t < VL; ++t) s += v[t];
  return s;
}
inline vf vmax(vf a, vf b) { return a > b ? a : b; }
inline vf vmin(vf a, vf b) { return a < b ? a : b; }

constexpr int64_t kMaxWindow = 31;

struct Geometry {
  int64_t B, H, W, C, K, N, h, D, half, Hp, Wq, Wk;
  int64_t ld;  // pixel stride of q, k, v and of dq, dk, dv (C, or more when they are packed)
  bool masked, useQK, useQR;
  float scale;

  /** Checks the sizes and derives the rest; ld 0 for C (q, k, v not packed). */
  static Geometry make(int64_t B, int64_t H, int64_t W, int64_t C, int64_t K, int64_t N, bool masked, bool useQK,
                       bool useQR, double scale, int64_t ld = 0) {
    Geometry g{};
    g.B = B, g.H = H, g.W = W, g.C = C, g.K = K, g.N = N;
    g.masked = masked, g.useQK = useQK, g.useQR = useQR;
    if (g.B < 1 || g.H < 1 || g.W < 1 || g.C < 1 || g.K < 1 || g.K % 2 == 0 || g.N < 1 ||
        g.C % g.N != 0 || (g.useQR && g.C % 2 != 0)) {
      fail("localAttention2d", "invalid geometry");
    }
    if (g.K > kMaxWindow) {
      fail("localAttention2d", "the native kernels take kernelSize <= " + std::to_string(kMaxWindow));
    }
    g.ld = ld > 0 ? ld : g.C;
    if (g.ld < g.C) fail("localAttention2d", "the pixel stride must be at least C");
    g.h = g.K / 2, g.D = g.C / g.N, g.half = g.C / 2;
    g.Hp = g.H + 2 * g.h;
    g.Wq = (g.W + VL - 1) / VL * VL;
    g.Wk = g.Wq + 2 * g.h;
    g.scale = static_cast<float>(scale);
    return g;
  }

  /**
   * From the JS object { batch, height, width, channels, kernelSize, heads, masked, useQK, useQR,
   * scale, pixelStride? } (src/backend/kernels/local_attention.ts geometryArg).
   */
  static Geometry from(const Napi::Object& o) {
    const char* what = "geometry";
    // read in order, so that the first missing field is the one named
    const int64_t B = intField(o, what, "batch"), H = intField(o, what, "height"), W = intField(o, what, "width");
    const int64_t C = intField(o, what, "channels"), K = intField(o, what, "kernelSize");
    const int64_t N = intField(o, what, "heads");
    const bool masked = boolField(o, what, "masked"), useQK = boolField(o, what, "useQK");
    const bool useQR = boolField(o, what, "useQR");
    const double scale = numField(o, what, "scale");
    const int64_t ld = o.Has("pixelStride") ? intField(o, what, "pixelStride") : 0;
    return make(B, H, W, C, K, N, masked, useQK, useQR, scale, ld);
  }
  int64_t size() const { return B * H * W * C; }
  /** Elements a q, k or v (or gradient) with pixel stride ld spans. */
  int64_t strided() const { return (B * H * W - 1) * ld + C; }
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
 * exp(x) for x <= 0 to ~1 ulp, 0 below -87 (NaN stays NaN), on a vector: x = n·ln 2 + r with
 * n = round(x·log2 e), |r| <= ln 2 / 2 (ln 2 in two parts, Cody-Waite), e^r by a polynomial, times
 * 2^n; n rounded by the 1.5·2^23 trick (exact for |x·log2 e| < 2^22). With AVX-512: a degree-6 fit
 * of e^r (relative error 2.2e-9 before float rounding; 1.03 ulp in float, tools/attention_exp_fit.py),
 * 2^n and the zeroing below -87 by one masked vscalefps: 13 instructions. Else Cephes' polynomial.
 */
#if defined(__AVX512F__)
inline vf expNonPositive(vf x) {
  const vf lim = splat(-87.0f);
  const __mmask16 inRange = _mm512_cmp_ps_mask(x, lim, _CMP_NLT_UQ);
  const __m512 xc = x < lim ? lim : x;  // NaN stays
  const vf magic = splat(12582912.0f);  // 1.5·2^23: adding it rounds to an integer
  const __m512 n = (xc * 1.44269504088896341f + magic) - magic;
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.38473033439368e-3f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.375050500035286e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.166798293590546e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666419804096222e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.999999403953552e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_maskz_scalef_ps(inRange, p, n);
}
#else
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
#endif

/**
 * The fewest groups (a divisor of `units`) to split each of `images` images' units into so that every thread
 * has two tasks or more; all of them (`units`) when even that is too few.
 */
inline int64_t fewestGroups(int64_t units, int64_t images) {
  for (int64_t n = 1; n <= units; ++n) {
    if (units % n == 0 && images * n >= 2 * numThreads()) return n;
  }
  return units;
}

/**
 * What inference applies to y as it is written: with pool, the 2×2 average with stride 2 (H and W even:
 * y [B, H/2, W/2, C]); then y + bias[c] (bias null: none), then max(y, 0) with relu (NaN kept, as tfjs's
 * Relu keeps it).
 */
struct Epilogue {
  const float* bias = nullptr;
  bool relu = false;
  bool pool = false;
  bool any() const { return bias != nullptr || relu; }

  /** Channels [lo, lo + count) of n pixels of x (pixel stride ld). */
  void apply(float* x, int64_t ld, int64_t n, int64_t lo, int64_t count) const {
    for (int64_t p = 0; p < n; ++p) {
      float* px = x + p * ld + lo;
      for (int64_t c = 0; c < count; ++c) {
        const float y = bias ? px[c] + bias[lo + c] : px[c];
        px[c] = relu && y < 0.0f ? 0.0f : y;
      }
    }
  }
};

struct Grads {
  float *dq, *dk, *dv;
};

}  // namespace attention
}  // namespace sasa
