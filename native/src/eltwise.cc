// Elementwise kernels: unary (relu, step, relu backward) and binary arithmetic where each
// operand is full-size, broadcast along trailing dimensions (a [inner] row repeated), or a
// scalar. Layout: the output is [rows, inner], row-major.
#include <algorithm>

#include "common.h"

namespace sasa {
namespace {

enum class Bin { Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5 };
/** How an operand maps onto [rows, inner]: full, one row repeated, or one value. */
enum Mode { Full = 0, Row = 1, Scalar = 2 };

constexpr int64_t kBlock = 4096;

template <Bin op>
inline float apply(float a, float b) {
  if constexpr (op == Bin::Add) return a + b;
  if constexpr (op == Bin::Sub) return a - b;
  if constexpr (op == Bin::Mul) return a * b;
  if constexpr (op == Bin::Div) return a / b;
  if constexpr (op == Bin::Max) return a > b || a != a ? a : b;
  if constexpr (op == Bin::Min) return a < b || a != a ? a : b;
}

template <Bin op, int ma, int mb>
void binaryLoop(const float* a, const float* b, float* c, int64_t rows, int64_t inner) {
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < blocks; ++k) {
      const int64_t j0 = k * kBlock, j1 = std::min(inner, j0 + kBlock);
      const float* pa = a + (ma == Full ? r * inner : 0);
      const float* pb = b + (mb == Full ? r * inner : 0);
      float* pc = c + r * inner;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) {
        pc[j] = apply<op>(ma == Scalar ? pa[0] : pa[j], mb == Scalar ? pb[0] : pb[j]);
      }
    }
  }
}

template <Bin op>
void binaryModes(int ma, int mb, const float* a, const float* b, float* c, int64_t rows,
                 int64_t inner) {
  switch (ma * 3 + mb) {
    case 0: return binaryLoop<op, Full, Full>(a, b, c, rows, inner);
    case 1: return binaryLoop<op, Full, Row>(a, b, c, rows, inner);
    case 2: return binaryLoop<op, Full, Scalar>(a, b, c, rows, inner);
    case 3: return binaryLoop<op, Row, Full>(a, b, c, rows, inner);
    case 5: return binaryLoop<op, Row, Scalar>(a, b, c, rows, inner);
    case 6: return binaryLoop<op, Scalar, Full>(a, b, c, rows, inner);
    case 7: return binaryLoop<op, Scalar, Row>(a, b, c, rows, inner);
    default: fail("binary", "unsupported operand modes");
  }
}

int64_t operandSize(int mode, int64_t rows, int64_t inner) {
  return mode == Full ? rows * inner : mode == Row ? inner : 1;
}

/** binary(a, b, c, [op, modeA, modeB, rows, inner]). */
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, "binary", [&] {
    const int32_t* p = intsArg(info, 3, "geometry", 5);
    const int op = p[0], ma = p[1], mb = p[2];
    const int64_t rows = p[3], inner = p[4];
    if (ma < 0 || ma > 2 || mb < 0 || mb > 2) fail("binary", "operand mode out of range");
    const float* a = floatArg(info, 0, "a", operandSize(ma, rows, inner));
    const float* b = floatArg(info, 1, "b", operandSize(mb, rows, inner));
    float* c = floatArg(info, 2, "out", rows * inner);
    switch (static_cast<Bin>(op)) {
      case Bin::Add: return binaryModes<Bin::Add>(ma, mb, a, b, c, rows, inner);
      case Bin::Sub: return binaryModes<Bin::Sub>(ma, mb, a, b, c, rows, inner);
      case Bin::Mul: return binaryModes<Bin::Mul>(ma, mb, a, b, c, rows, inner);
      case Bin::Div: return binaryModes<Bin::Div>(ma, mb, a, b, c, rows, inner);
      case Bin::Max: return binaryModes<Bin::Max>(ma, mb, a, b, c, rows, inner);
      case Bin::Min: return binaryModes<Bin::Min>(ma, mb, a, b, c, rows, inner);
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
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
  });
}

/** reluGrad(dy, x, dx, n): dx = dy where x > 0, else 0. */
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  return guarded(info, "ReluGrad", [&] {
    const int64_t n = intArg(info, 3, "n");
    const float* dy = floatArg(info, 0, "dy", n);
    const float* x = floatArg(info, 1, "x", n);
    float* dx = floatArg(info, 2, "dx", n);
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
  });
}

/** step(x, y, n, alpha): y = 1 where x > 0, alpha elsewhere, NaN kept. */
Napi::Value Step(const Napi::CallbackInfo& info) {
  return guarded(info, "Step", [&] {
    const int64_t n = intArg(info, 2, "n");
    const float alpha = static_cast<float>(numArg(info, 3, "alpha"));
    const float* x = floatArg(info, 0, "x", n);
    float* y = floatArg(info, 1, "y", n);
#pragma omp parallel for simd schedule(static)
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
