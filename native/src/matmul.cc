// Batched matrix multiply C[i] = op(A[ia(i)]) · op(B[ib(i)]) (row-major) for TensorFlow.js's
// BatchMatMul. The batch maps ia, ib are i % batchA and i % batchB, or tables passed by the
// caller for broadcasts that a modulo cannot express.
//
// Why not dnnl_sgemm: in oneDNN <= 3.11 the JIT sgemm kernels (jit_avx512_common_gemm_f32 and
// the AVX2 one, "gemm:jit" in ONEDNN_VERBOSE) point rsp into a heap buffer while they run, so a
// signal delivered during the call (V8's --cpu-prof SIGPROF sampling, async profilers, any
// installed handler) writes its frame into the heap and corrupts it ("corrupted size vs.
// prev_size", oneDNN issue #4845, fixed upstream by PR #4855; Debian's 2.6 has the bug). Small
// m, n with k >= 256 hit it reliably under `node --cpu-prof`.
//
// So this file runs oneDNN's matmul primitive (row-major descriptors, transposes as strides,
// batch broadcasting by batch dim 1), cached per geometry and executed on the user's buffers.
// On AVX-512 it picks "brg:avx512_core" (brgemm, ordinary stack frame). Whenever oneDNN would
// pick a gemm-based implementation ("gemm:jit", e.g. on AVX2-only machines, where 2.6 has no f32
// brgemm), we run our own blocked GEMM below instead. SASA_MATMUL=own forces it (for tests).
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "simd.h"

namespace sasa {
namespace {

using dnnl::memory;
using dt = memory::data_type;

// ---------------------------------------------------------------------------------------------
// Our own GEMM, for shapes where oneDNN's matmul would run its signal-unsafe sgemm.


constexpr int64_t MR = 6;     // rows of C per micro-kernel
constexpr int64_t NR = 2 * VL;  // columns of C per micro-kernel
constexpr int64_t KC = 256;   // depth of a packed block of B

/**
 * C[r][j] (+)= Σ_{x<kc} A[r·as + x·ax] · Bp[x·NR + j] for R rows and NR columns; Bp is a packed
 * block of op(B). The result goes to `out` (row stride os).
 */
template <int R>
inline void micro(const float* A, int64_t as, int64_t ax, const float* Bp, int64_t kc, float* out,
                  int64_t os, bool add) {
  vf acc0[R], acc1[R];
  for (int r = 0; r < R; ++r) {
    acc0[r] = add ? loadu(out + r * os) : vf{};
    acc1[r] = add ? loadu(out + r * os + VL) : vf{};
  }
  for (int64_t x = 0; x < kc; ++x) {
    const vf b0 = loadu(Bp + x * NR), b1 = loadu(Bp + x * NR + VL);
    for (int r = 0; r < R; ++r) {
      const vf a = splat(A[r * as + x * ax]);
      acc0[r] += a * b0;
      acc1[r] += a * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    storeu(out + r * os, acc0[r]);
    storeu(out + r * os + VL, acc1[r]);
  }
}

template <int R>
void microRows(const float* A, int64_t as, int64_t ax, const float* Bp, int64_t kc, float* out,
               int64_t os, bool add, int64_t rows) {
  if constexpr (R > 1) {
    if (rows < R) return microRows<R - 1>(A, as, ax, Bp, kc, out, os, add, rows);
  }
  micro<R>(A, as, ax, Bp, kc, out, os, add);
}

/**
 * Rows [r0, r1) of C (m×n, row-major) = op(A) · op(B), one matrix, on the calling thread: B is
 * packed in blocks of KC × NR panels, then MR × NR micro-kernels run over the rows.
 */
void gemmRowRange(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                  float* c, int64_t r0, int64_t r1) {
  const int64_t as = ta ? 1 : k, ax = ta ? m : 1;  // op(A)[i][x] = a[i·as + x·ax]
  const int64_t panels = (n + NR - 1) / NR;
  std::vector<float> bp(static_cast<size_t>(std::min(k, KC) * panels * NR));
  float tmp[MR * NR];
  for (int64_t k0 = 0; k0 < k; k0 += KC) {
    const int64_t kc = std::min(KC, k - k0);
    // Pack op(B)[k0 .. k0+kc][0 .. n] as panels of NR columns, zero-padded.
    for (int64_t p = 0; p < panels; ++p) {
      float* dst = bp.data() + p * kc * NR;
      const int64_t j0 = p * NR, cols = std::min(NR, n - j0);
      for (int64_t x = 0; x < kc; ++x) {
        float* row = dst + x * NR;
        if (tb) {
          for (int64_t j = 0; j < cols; ++j) row[j] = b[(j0 + j) * k + k0 + x];
        } else {
          std::memcpy(row, b + (k0 + x) * n + j0, cols * sizeof(float));
        }
        for (int64_t j = cols; j < NR; ++j) row[j] = 0;
      }
    }
    const bool add = k0 > 0;
    for (int64_t i0 = r0; i0 < r1; i0 += MR) {
      const int64_t rows = std::min(MR, r1 - i0);
      const float* arow = a + i0 * as + k0 * ax;
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t j0 = p * NR, cols = std::min(NR, n - j0);
        const float* panel = bp.data() + p * kc * NR;
        if (cols == NR) {
          microRows<MR>(arow, as, ax, panel, kc, c + i0 * n + j0, n, add, rows);
        } else {
          for (int64_t r = 0; add && r < rows; ++r) {
            std::memcpy(tmp + r * NR, c + (i0 + r) * n + j0, cols * sizeof(float));
          }
          microRows<MR>(arow, as, ax, panel, kc, tmp, NR, add, rows);
          for (int64_t r = 0; r < rows; ++r) {
            std::memcpy(c + (i0 + r) * n + j0, tmp + r * NR, cols * sizeof(float));
          }
        }
      }
    }
  }
}

/**
 * C (m×n, row-major) = op(A) · op(B), one matrix. `threaded`: split the rows over the OpenMP
 * threads in one parallel region, each packing B itself (no barriers inside the k loop, which
 * cost a time slice each on a loaded machine); false when the caller runs one product per thread.
 */
void ownGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
             float* c, bool threaded) {
  const int64_t blocks = (m + MR - 1) / MR;
  const int64_t parts = threaded && m * n * k >= 64 * 64 * 64 ? std::min<int64_t>(numThreads(), blocks) : 1;
  if (parts <= 1) return gemmRowRange(ta, tb, m, n, k, a, b, c, 0, m);
#pragma omp parallel for schedule(static) num_threads(parts)
  for (int64_t t = 0; t < parts; ++t) {
    const int64_t r0 = blocks * t / parts * MR, r1 = std::min(m, blocks * (t + 1) / parts * MR);
    gemmRowRange(ta, tb, m, n, k, a, b, c, r0, r1);
  }
}

// ---------------------------------------------------------------------------------------------
// oneDNN matmul primitives, cached per geometry.

/** One product as oneDNN sees it: src [bs, m, k] · weights [bw, k, n] = dst [bd, m, n]. */
struct MatmulShape {
  int64_t bs, bw, bd, m, n, k;
  bool ta, tb;

  std::string key() const {
    std::string s;
    for (int64_t v : {bs, bw, bd, m, n, k, int64_t(ta), int64_t(tb)}) {
      s += std::to_string(v);
      s += ',';
    }
    return s;
  }
  /** Row-major [rows, cols] stored transposed when `t`, with a batch dimension when `batch`. */
  static memory::desc desc(int64_t b, int64_t rows, int64_t cols, bool t, bool batched) {
    const memory::dims s2 = t ? memory::dims{1, rows} : memory::dims{cols, 1};
    if (!batched) return memory::desc({rows, cols}, dt::f32, s2);
    return memory::desc({b, rows, cols}, dt::f32, {rows * cols, s2[0], s2[1]});
  }
  bool batched() const { return bd > 1; }
};

struct MatmulEntry {
  bool own = false;  // run ownGemm instead of the primitive
  std::string impl;
  std::unique_ptr<dnnl::matmul> prim;
  memory src, wei, dst;
};

bool forceOwn() {
  static const bool own = [] {
    const char* v = std::getenv("SASA_MATMUL");
    return v != nullptr && std::string(v) == "own";
  }();
  return own;
}

MatmulEntry& entryFor(const MatmulShape& s) {
  static std::unordered_map<std::string, std::unique_ptr<MatmulEntry>> entries;
  const std::string key = s.key();
  auto it = entries.find(key);
  if (it != entries.end()) return *it->second;
  if (entries.size() >= 256) entries.clear();  // a bounded cache: shapes of one model are few
  auto e = std::make_unique<MatmulEntry>();
  if (forceOwn()) {
    e->own = true;
    e->impl = "own (SASA_MATMUL=own)";
  } else {
    const bool batched = s.batched();
    const memory::desc src = MatmulShape::desc(s.bs, s.m, s.k, s.ta, batched);
    const memory::desc wei = MatmulShape::desc(s.bw, s.k, s.n, s.tb, batched);
    const memory::desc dst = MatmulShape::desc(s.bd, s.m, s.n, false, batched);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), cpuEngine());
    e->impl = pd.impl_info_str();
    // gemm-based implementations run the JIT sgemm whose kernels move rsp into the heap.
    if (e->impl.rfind("gemm", 0) == 0) {
      e->own = true;
    } else {
      e->prim = std::make_unique<dnnl::matmul>(pd);
      e->src = memory(pd.src_desc(), cpuEngine(), DNNL_MEMORY_NONE);
      e->wei = memory(pd.weights_desc(), cpuEngine(), DNNL_MEMORY_NONE);
      e->dst = memory(pd.dst_desc(), cpuEngine(), DNNL_MEMORY_NONE);
    }
  }
  if (std::getenv("SASA_MATMUL_VERBOSE")) {
    std::fprintf(stderr, "sasa matmul %s -> %s\n", key.c_str(), e->impl.c_str());
  }
  auto* raw = e.get();
  entries.emplace(key, std::move(e));
  return *raw;
}

void execute(MatmulEntry& e, const float* a, const float* b, float* c) {
  e.src.set_data_handle(const_cast<float*>(a));
  e.wei.set_data_handle(const_cast<float*>(b));
  e.dst.set_data_handle(c);
  e.prim->execute(cpuStream(), {{DNNL_ARG_SRC, e.src}, {DNNL_ARG_WEIGHTS, e.wei}, {DNNL_ARG_DST, e.dst}});
}

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
    if (!tables && ((batchA != 1 && batchA != batch) || (batchB != 1 && batchB != batch))) {
      fail("BatchMatMul", "batch sizes must be 1 or the output batch without index tables");
    }
    const float* a = floatArg(info, 0, "a", batchA * m * k);
    const float* b = floatArg(info, 1, "b", batchB * k * n);
    float* c = floatArg(info, 2, "c", batch * m * n);
    if (m == 0 || n == 0) return;
    if (k == 0) {
      std::fill(c, c + batch * m * n, 0.0f);
      return;
    }

    MatmulShape s{batchA, batchB, batch, m, n, k, transA, transB};
    if (tables) {
      s = {1, 1, 1, m, n, k, transA, transB};  // one 2-D product per output matrix
    } else if (batch > 1 && batchB == 1 && !transA) {
      s = {1, 1, 1, batch * m, n, k, false, transB};  // a batch of A rows times one B: fold
    }
    MatmulEntry& e = entryFor(s);
    if (!tables && (s.bd == batch || batch == 1 || s.m == batch * m)) {
      // One call covers the whole batch.
      if (!e.own) return execute(e, a, b, c);
      if (s.bd == 1) return ownGemm(transA, transB, s.m, n, k, a, b, c, true);
    }
    auto ia = [&](int64_t i) { return tables ? tableA[i] : i % batchA; };
    auto ib = [&](int64_t i) { return tables ? tableB[i] : i % batchB; };
    if (!e.own) {
      for (int64_t i = 0; i < batch; ++i) execute(e, a + ia(i) * m * k, b + ib(i) * k * n, c + i * m * n);
      return;
    }
    // Small matrices in a batch: one single-threaded product per thread.
    const bool perThread = batch >= numThreads() && m * n * k < 128 * 128 * 128;
    if (perThread) {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < batch; ++i) {
        ownGemm(transA, transB, m, n, k, a + ia(i) * m * k, b + ib(i) * k * n, c + i * m * n, false);
      }
    } else {
      for (int64_t i = 0; i < batch; ++i) {
        ownGemm(transA, transB, m, n, k, a + ia(i) * m * k, b + ib(i) * k * n, c + i * m * n, true);
      }
    }
  });
}

}  // namespace

void registerMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
}

}  // namespace sasa
