// Max and average 2-D pooling on NHWC data, forward and backward, as OpenMP loops vectorised
// over channels. Average pooling divides by the number of in-image pixels in the window (padding
// excluded), as TensorFlow.js's forward does; its backward is the exact gradient of that.
// Max pooling's backward routes each gradient to the first maximum in window scan order.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"

namespace sasa {
namespace {

struct PoolShape {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl;
  /** Reads the geometry by name (src/backend/addon.ts PoolGeometryArg): tfjs's PoolInfo fields. */
  static PoolShape from(const Napi::Object& o) {
    const char* what = "pool geometry";
    auto f = [&](const char* name) { return intField(o, what, name); };
    PoolShape s{f("batch"),       f("inHeight"),     f("inWidth"),     f("channels"),
                f("outHeight"),   f("outWidth"),     f("filterHeight"), f("filterWidth"),
                f("strideHeight"), f("strideWidth"), f("padTop"),      f("padLeft")};
    for (int64_t v : {s.n, s.h, s.w, s.c, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw}) {
      if (v < 1) fail("pool", "sizes and strides must be >= 1");
    }
    if (s.pt < 0 || s.pl < 0) fail("pool", "paddings must be >= 0");
    return s;
  }
  int64_t inSize() const { return n * h * w * c; }
  int64_t outSize() const { return n * oh * ow * c; }
  int64_t r0(int64_t orow) const { return std::max<int64_t>(0, orow * sh - pt); }
  int64_t r1(int64_t orow) const { return std::min<int64_t>(h, orow * sh - pt + kh); }
  int64_t c0(int64_t ocol) const { return std::max<int64_t>(0, ocol * sw - pl); }
  int64_t c1(int64_t ocol) const { return std::min<int64_t>(w, ocol * sw - pl + kw); }
  /** In-image pixels of window (orow, ocol): 0 when it lies wholly in the padding. */
  int64_t count(int64_t orow, int64_t ocol) const {
    return std::max<int64_t>(0, r1(orow) - r0(orow)) * std::max<int64_t>(0, c1(ocol) - c0(ocol));
  }
};

constexpr int64_t kChunk = 64;  // channels per task in the backward passes

/**
 * The forward pass's frame, x [N, H, W, C] (argument 0) → y [N, OH, OW, C] (argument 1), geometry argument 2:
 * each output pixel's y[C] is set to `init`, then `add(out, in)` for each in-image pixel of its window, then
 * `finish(out, count)` with the window's in-image pixel count.
 */
template <typename Add, typename Finish>
void poolForward(const Napi::CallbackInfo& info, float init, Add add, Finish finish) {
  PoolShape s = PoolShape::from(objectArg(info, 2, "geometry"));
  const float* x = floatArg(info, 0, "x", s.inSize());
  float* y = floatArg(info, 1, "y", s.outSize());
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < s.n; ++b) {
    for (int64_t i = 0; i < s.oh; ++i) {
      for (int64_t j = 0; j < s.ow; ++j) {
        float* out = y + ((b * s.oh + i) * s.ow + j) * s.c;
        std::fill(out, out + s.c, init);
        for (int64_t r = s.r0(i); r < s.r1(i); ++r) {
          for (int64_t q = s.c0(j); q < s.c1(j); ++q) add(out, x + ((b * s.h + r) * s.w + q) * s.c, s.c);
        }
        finish(out, s.count(i, j), s.c);
      }
    }
  }
}

/** y = the max over each window (−∞ for a window wholly in the padding). */
Napi::Value MaxPoolForward(const Napi::CallbackInfo& info) {
  return guarded(info, "MaxPool", [&] {
    poolForward(
        info, -std::numeric_limits<float>::infinity(),
        [](float* out, const float* in, int64_t c) {
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
        },
        [](float*, int64_t, int64_t) {});
  });
}

/**
 * The backward passes' frame: dx [N, H, W, C] zeroed, then `window(b, ch0, ch1, i, j)` for each output
 * pixel (i, j) of image b, channels [ch0, ch1) (a chunk of at most kChunk): threads split images and
 * chunks, so no two add into the same dx.
 */
template <typename Window>
void poolBackward(const PoolShape& s, float* dx, Window window) {
  std::memset(dx, 0, sizeof(float) * s.inSize());
  const int64_t chunks = (s.c + kChunk - 1) / kChunk;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < s.n; ++b) {
    for (int64_t k = 0; k < chunks; ++k) {
      const int64_t ch0 = k * kChunk, ch1 = std::min(s.c, ch0 + kChunk);
      for (int64_t i = 0; i < s.oh; ++i) {
        for (int64_t j = 0; j < s.ow; ++j) window(b, ch0, ch1, i, j);
      }
    }
  }
}

/** dx: each window's dy added at its first maximum (in scan order); nothing for a window wholly in the padding. */
Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "MaxPoolGrad", [&] {
    PoolShape s = PoolShape::from(objectArg(info, 3, "geometry"));
    const float* x = floatArg(info, 0, "x", s.inSize());
    const float* dy = floatArg(info, 1, "dy", s.outSize());
    float* dx = floatArg(info, 2, "dx", s.inSize());
    poolBackward(s, dx, [&](int64_t b, int64_t ch0, int64_t ch1, int64_t i, int64_t j) {
      float best[kChunk];
      int64_t where[kChunk];
      for (int64_t ch = ch0; ch < ch1; ++ch) {
        best[ch - ch0] = -std::numeric_limits<float>::infinity();
        where[ch - ch0] = -1;
      }
      for (int64_t r = s.r0(i); r < s.r1(i); ++r) {
        for (int64_t q = s.c0(j); q < s.c1(j); ++q) {
          const int64_t pix = (b * s.h + r) * s.w + q;
          const float* in = x + pix * s.c;
          for (int64_t ch = ch0; ch < ch1; ++ch) {
            if (in[ch] > best[ch - ch0]) {
              best[ch - ch0] = in[ch];
              where[ch - ch0] = pix;
            }
          }
        }
      }
      const float* g = dy + ((b * s.oh + i) * s.ow + j) * s.c;
      for (int64_t ch = ch0; ch < ch1; ++ch) {
        if (where[ch - ch0] >= 0) dx[where[ch - ch0] * s.c + ch] += g[ch];
      }
    });
  });
}

/** y = the mean over each window's in-image pixels. */
Napi::Value AvgPoolForward(const Napi::CallbackInfo& info) {
  return guarded(info, "AvgPool", [&] {
    poolForward(
        info, 0.0f,
        [](float* out, const float* in, int64_t c) {
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) out[ch] += in[ch];
        },
        [](float* out, int64_t count, int64_t c) {
          // A window wholly in the padding averages nothing: NaN, as tfjs's 0 / 0.
          const float inv =
              count > 0 ? 1.0f / static_cast<float>(count) : std::numeric_limits<float>::quiet_NaN();
#pragma omp simd
          for (int64_t ch = 0; ch < c; ++ch) out[ch] *= inv;
        });
  });
}

/** dx: each window's dy / count added at its in-image pixels (the exact gradient of AvgPool's forward). */
Napi::Value AvgPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, "AvgPoolGrad", [&] {
    PoolShape s = PoolShape::from(objectArg(info, 2, "geometry"));
    const float* dy = floatArg(info, 0, "dy", s.outSize());
    float* dx = floatArg(info, 1, "dx", s.inSize());
    poolBackward(s, dx, [&](int64_t b, int64_t ch0, int64_t ch1, int64_t i, int64_t j) {
      const int64_t count = s.count(i, j);
      if (count == 0) return;
      const float inv = 1.0f / static_cast<float>(count);
      const float* g = dy + ((b * s.oh + i) * s.ow + j) * s.c;
      for (int64_t r = s.r0(i); r < s.r1(i); ++r) {
        for (int64_t q = s.c0(j); q < s.c1(j); ++q) {
          float* d = dx + ((b * s.h + r) * s.w + q) * s.c;
#pragma omp simd
          for (int64_t ch = ch0; ch < ch1; ++ch) d[ch] += g[ch] * inv;
        }
      }
    });
  });
}

}  // namespace

void registerPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPoolForward", Napi::Function::New(env, MaxPoolForward));
  exports.Set("maxPoolBackward", Napi::Function::New(env, MaxPoolBackward));
  exports.Set("avgPoolForward", Napi::Function::New(env, AvgPoolForward));
  exports.Set("avgPoolBackward", Napi::Function::New(env, AvgPoolBackward));
}

}  // namespace sasa
