// Elementwise kernels: unary (relu, step, relu backward) and binary arithmetic with
// broadcasting. Binary operands arrive as strided views of the output's (collapsed) shape:
// stride 0 along the dimensions an operand is broadcast over.
#include <algorithm>

#include "common.h"

namespace sasa {
namespace {

enum class Bin { Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5 };

constexpr int kMaxRank = 6;
constexpr int64_t kBlock = 4096;
// Below this many elements a kernel runs on one thread: an OpenMP region's fork and barrier cost more than
// the work (a batch norm's moving statistics, the relative tables' gradient sums: vectors of 10²–10³ floats,
// hundreds of calls a step), and on a shared host a barrier waits for the other thread to be scheduled.
constexpr int64_t kParallelMin = 1 << 15;

template <Bin op>
inline float apply(float a, float b) {
  if constexpr (op == Bin::Add) return a + b;
  if constexpr (op == Bin::Sub) return a - b;
  if constexpr (op == Bin::Mul) return a * b;
  if constexpr (op == Bin::Div) return a / b;
  if constexpr (op == Bin::Max) return a > b || a != a ? a : b;
  if constexpr (op == Bin::Min) return a < b || a != a ? a : b;
}

struct Strided {
  int rank;
  int64_t shape[kMaxRank];
  int64_t sa[kMaxRank];
  int64_t sb[kMaxRank];
  int64_t rows() const {
    int64_t r = 1;
    for (int d = 0; d + 1 < rank; ++d) r *= shape[d];
    return r;
  }
  int64_t inner() const { return shape[rank - 1]; }
  /** Offsets of row `r` (all dimensions but the last) in a and b. */
  void rowOffsets(int64_t r, int64_t& oa, int64_t& ob) const {
    oa = ob = 0;
    for (int d = rank - 2; d >= 0; --d) {
      const int64_t i = r % shape[d];
      r /= shape[d];
      oa += i * sa[d];
      ob += i * sb[d];
    }
  }
};

/** Last-dimension strides are 0 or 1; templating on them lets the inner loop vectorise. */
template <Bin op, int ia, int ib>
void binaryLoop(const float* a, const float* b, float* c, const Strided& g) {
  const int64_t rows = g.rows(), inner = g.inner();
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) schedule(static) if (rows * inner >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < blocks; ++k) {
      const int64_t j0 = k * kBlock, j1 = std::min(inner, j0 + kBlock);
      int64_t oa, ob;
      g.rowOffsets(r, oa, ob);
      const float* pa = a + oa;
      const float* pb = b + ob;
      float* pc = c + r * inner;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) pc[j] = apply<op>(pa[j * ia], pb[j * ib]);
    }
  }
}

template <Bin op>
void binaryStrides(const float* a, const float* b, float* c, const Strided& g) {
  const int64_t ia = g.sa[g.rank - 1], ib = g.sb[g.rank - 1];
  if (ia == 1 && ib == 1) return binaryLoop<op, 1, 1>(a, b, c, g);
  if (ia == 1 && ib == 0) return binaryLoop<op, 1, 0>(a, b, c, g);
  if (ia == 0 && ib == 1) return binaryLoop<op, 0, 1>(a, b, c, g);
  if (ia == 0 && ib == 0) return binaryLoop<op, 0, 0>(a, b, c, g);
  fail("binary", "last-dimension strides must be 0 or 1");
}

/** Elements an operand with these strides spans (its minimum buffer length). */
int64_t span(const Strided& g, const int64_t* strides) {
  int64_t last = 0;
  for (int d = 0; d < g.rank; ++d) last += (g.shape[d] - 1) * strides[d];
  return last + 1;
}

/** binary(a, b, out, [op, rank, shape..., stridesA..., stridesB...]). */
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, "binary", [&] {
    const int32_t* p = intsArg(info, 3, "geometry", 2);
    const int op = p[0];
    Strided g{};
    g.rank = p[1];
    if (g.rank < 1 || g.rank > kMaxRank) fail("binary", "rank must be 1.." + std::to_string(kMaxRank));
    p = intsArg(info, 3, "geometry", 2 + 3 * g.rank) + 2;
    int64_t total = 1;
    for (int d = 0; d < g.rank; ++d) {
      g.shape[d] = p[d];
      g.sa[d] = p[g.rank + d];
      g.sb[d] = p[2 * g.rank + d];
      if (g.shape[d] < 1 || g.sa[d] < 0 || g.sb[d] < 0) fail("binary", "bad shape or strides");
      total *= g.shape[d];
    }
    const float* a = floatArg(info, 0, "a", span(g, g.sa));
    const float* b = floatArg(info, 1, "b", span(g, g.sb));
    float* c = floatArg(info, 2, "out", total);
    switch (static_cast<Bin>(op)) {
      case Bin::Add: return binaryStrides<Bin::Add>(a, b, c, g);
      case Bin::Sub: return binaryStrides<Bin::Sub>(a, b, c, g);
      case Bin::Mul: return binaryStrides<Bin::Mul>(a, b, c, g);
      case Bin::Div: return binaryStrides<Bin::Div>(a, b, c, g);
      case Bin::Max: return binaryStrides<Bin::Max>(a, b, c, g);
      case Bin::Min: return binaryStrides<Bin::Min>(a, b, c, g);
      default: fail("binary", "unknown op");
    }
  });
}

/** relu(x, y, n): y = max(x, 0), NaN kept. */
Napi::Value Relu(const Napi::CallbackInfo& info) {
  return guarded(info, "Relu", [&] {
    const int64_t n = intArg(info, 2, "n");
    const float* x = floatArg(info, 0, "x", n);
    float* y = floatArg(info, 1, "y", n);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
  });
}

/** reluGrad(dy, x, dx, n): dx = dy where x > 0, NaN where x is NaN (as tfjs's dy · step(x)), else 0. */
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "ReluGrad", [&] {
    const int64_t n = intArg(info, 3, "n");
    const float* dy = floatArg(info, 0, "dy", n);
    const float* x = floatArg(info, 1, "x", n);
    float* dx = floatArg(info, 2, "dx", n);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : x[i] != x[i] ? x[i] : 0.0f;
  });
}

/** step(x, y, n, alpha): y = 1 where x > 0, alpha elsewhere, NaN kept. */
Napi::Value Step(const Napi::CallbackInfo& info) {
  return guarded(info, "Step", [&] {
    const int64_t n = intArg(info, 2, "n");
    const float alpha = static_cast<float>(numArg(info, 3, "alpha"));
    const float* x = floatArg(info, 0, "x", n);
    float* y = floatArg(info, 1, "y", n);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] != x[i] ? x[i] : x[i] > 0.0f ? 1.0f : alpha;
  });
}

}  // namespace

void registerEltwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("relu", Napi::Function::New(env, Relu));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad));
  exports.Set("step", Napi::Function::New(env, Step));
}

}  // namespace sasa
