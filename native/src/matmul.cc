// Batched matrix multiply C[b] = op(A[b % batchA]) · op(B[b % batchB]) with dnnl_sgemm,
// matching TensorFlow.js's BatchMatMul (3-D, row-major, batch broadcasting by modulo).
#include <omp.h>

#include "common.h"

namespace sasa {
namespace {

Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchMatMul", [&] {
    const int32_t* p = intsArg(info, 3, "geometry", 8);
    const int64_t batchA = p[0], batchB = p[1], batch = p[2], m = p[3], n = p[4], k = p[5];
    const bool transA = p[6] != 0, transB = p[7] != 0;
    const float* a = floatArg(info, 0, "a", batchA * m * k);
    const float* b = floatArg(info, 1, "b", batchB * k * n);
    float* c = floatArg(info, 2, "c", batch * m * n);
    const char ta = transA ? 'T' : 'N', tb = transB ? 'T' : 'N';
    const int64_t lda = transA ? m : k, ldb = transB ? k : n;
    auto one = [&](int64_t i) {
      return dnnl_sgemm(ta, tb, m, n, k, 1.0f, a + (i % batchA) * m * k, lda,
                        b + (i % batchB) * k * n, ldb, 0.0f, c + i * m * n, n);
    };
    // Small matrices in a batch: one single-threaded sgemm per thread beats threading each one.
    const bool perThread = batch >= numThreads() && m * n * k < 128 * 128 * 128;
    int failures = 0;
    if (perThread) {
#pragma omp parallel for schedule(static) reduction(+ : failures)
      for (int64_t i = 0; i < batch; ++i) failures += one(i) != dnnl_success;
    } else {
      for (int64_t i = 0; i < batch; ++i) failures += one(i) != dnnl_success;
    }
    if (failures > 0) fail("BatchMatMul", "dnnl_sgemm failed");
  });
}

}  // namespace

void registerMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
}

}  // namespace sasa
