// Batched matrix multiply C[i] = op(A[ia(i)]) · op(B[ib(i)]) with dnnl_sgemm (row-major), for
// TensorFlow.js's BatchMatMul. The batch maps ia, ib are i % batchA and i % batchB, or tables
// passed by the caller for broadcasts that a modulo cannot express.
#include <omp.h>

#include "common.h"

namespace sasa {
namespace {

Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  return guarded(info, "BatchMatMul", [&] {
    const int32_t* p = intsArg(info, 3, "geometry", 8);
    const int64_t batchA = p[0], batchB = p[1], batch = p[2], m = p[3], n = p[4], k = p[5];
    const bool transA = p[6] != 0, transB = p[7] != 0;
    if (batchA < 1 || batchB < 1 || batch < 1 || m < 0 || n < 0 || k < 0) {
      fail("BatchMatMul", "batch sizes must be >= 1 and matrix sizes >= 0");
    }
    const bool tables = info.Length() > 5 && !info[4].IsUndefined();
    const int32_t* tableA = tables ? intsArg(info, 4, "batchIndexA", batch) : nullptr;
    const int32_t* tableB = tables ? intsArg(info, 5, "batchIndexB", batch) : nullptr;
    for (int64_t i = 0; tables && i < batch; ++i) {
      if (tableA[i] < 0 || tableA[i] >= batchA || tableB[i] < 0 || tableB[i] >= batchB) {
        fail("BatchMatMul", "batch index table out of range");
      }
    }
    const float* a = floatArg(info, 0, "a", batchA * m * k);
    const float* b = floatArg(info, 1, "b", batchB * k * n);
    float* c = floatArg(info, 2, "c", batch * m * n);
    const char ta = transA ? 'T' : 'N', tb = transB ? 'T' : 'N';
    const int64_t lda = transA ? m : k, ldb = transB ? k : n;
    auto one = [&](int64_t i) {
      const int64_t ia = tables ? tableA[i] : i % batchA, ib = tables ? tableB[i] : i % batchB;
      return dnnl_sgemm(ta, tb, m, n, k, 1.0f, a + ia * m * k, lda, b + ib * k * n, ldb, 0.0f,
                        c + i * m * n, n);
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
