// Portable SIMD vectors (GCC vector extensions) shared by the hand-written kernels: VL floats,
// the widest the build targets (AVX-512: 16, AVX: 8, else SSE: 4), with unaligned loads and stores.
#pragma once

#include <cstdint>
#include <cstring>

namespace sasa {

#if defined(__AVX512F__)
constexpr int64_t VL = 16;
#elif defined(__AVX__)
constexpr int64_t VL = 8;
#else
constexpr int64_t VL = 4;
#endif
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(float))));

inline vf loadu(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
/**
 * loadu for a vector that serves several multiply-adds: kept in a register (the empty asm hides
 * where it came from), as GCC would otherwise fold the load into each FMA and load it again, an
 * unaligned load mostly across two cache lines each time.
 */
inline vf loadShared(const float* p) {
  vf v = loadu(p);
  asm("" : "+v"(v));
  return v;
}
inline void storeu(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return vf{} + x; }

}  // namespace sasa
