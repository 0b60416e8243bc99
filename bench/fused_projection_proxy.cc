// Proxy for issue 18's fusion idea: does the local attention backward gain from running the
// projection's two backward products per image (dx_b = dqkv_b·Wᵀ, dW += x_bᵀ·dqkv_b) while the
// image's dq|dk|dv are hot, instead of writing packed dqkv [B·H·W, 3C] and running two big products
// on it afterwards? Only the data movement and the products are modelled, with oneDNN's matmul
// primitive as native/src/matmul.cc runs it; the attention arithmetic is the same on both sides:
//   SEPARATE: per image (OpenMP task) channel-major dqkv [3C][H·W] → packed NHWC rows of dqkv;
//             then dx = dqkv·Wᵀ and dW = xᵀ·dqkv, each one product over all threads.
//   FUSED:    per image the same transpose into a thread-local [H·W, 3C] buffer, then both products
//             of that image on the task's thread (oneDNN runs single-threaded inside the OpenMP
//             region); the per-image dW summed in image order.
//   PLANAR:   FUSED without the transpose: the products read the channel-major [3C][H·W] gradients
//             through transposed strides (the op's W rounding up to Wq ignored here).
//   LAYOUT:   the transposes alone (SEPARATE's first half), to subtract.
//   PROD-ALL, PROD-IMG: the products alone on the packed dqkv, as two big ones or per image on the
//             images' threads (no layout before them, so the data come from L3 / memory in both).
// Build and run (prints per variant the median of 7 samples of 10 calls, wall and CPU ms per call,
// alternated per round):
//   g++ -O3 -march=native -fopenmp bench/fused_projection_proxy.cc -ldnnl -o /tmp/fused_proxy && /tmp/fused_proxy 8 56 56 64 5
#include <immintrin.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

using dnnl::memory;
using dt = memory::data_type;

namespace {

dnnl::engine engine(dnnl::engine::kind::cpu, 0);

/** C [m, n] = A · B with A, B given by row-major dims and strides (transposes as strides). */
struct Product {
  dnnl::matmul prim;
  memory::desc a, b, c, pad;
  Product(memory::dim m, memory::dim k, memory::dim n, memory::dims as, memory::dims bs, memory::dims cs)
      : a({m, k}, dt::f32, as), b({k, n}, dt::f32, bs), c({m, n}, dt::f32, cs) {
    // the caller's scratchpad: the library's one is shared, and the fused variant runs a primitive
    // on every thread at once
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, engine);
    pad = pd.scratchpad_desc();
    prim = dnnl::matmul(pd);
  }
  void run(dnnl::stream& s, const float* A, const float* B, float* C) {
    thread_local std::vector<unsigned char> scratch;
    scratch.resize(std::max(scratch.size(), pad.get_size()));
    memory ma(a, engine, const_cast<float*>(A)), mb(b, engine, const_cast<float*>(B)), mc(c, engine, C);
    memory mp(pad, engine, scratch.data());
    prim.execute(s, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}, {DNNL_ARG_SCRATCHPAD, mp}});
  }
};

/** The 8×8 block r[0..8) transposed in place. */
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

/** Channel-major [J][P] → rows [P][J] (stride ld), in 8×8 AVX blocks as the op's write-back (J, P multiples of 8). */
void toRows(const float* src, int64_t J, int64_t P, float* dst, int64_t ld) {
  for (int64_t j0 = 0; j0 < J; j0 += 8) {
    for (int64_t p0 = 0; p0 < P; p0 += 8) {
      __m256 r[8];
      for (int t = 0; t < 8; ++t) r[t] = _mm256_loadu_ps(src + (j0 + t) * P + p0);
      transpose8x8(r);
      for (int t = 0; t < 8; ++t) _mm256_storeu_ps(dst + (p0 + t) * ld + j0, r[t]);
    }
  }
}

/** Calls per timed sample: the process CPU clock ticks in milliseconds. */
constexpr int kCalls = 10;

double cpuMs() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? atoll(argv[1]) : 8, H = argc > 2 ? atoll(argv[2]) : 56;
  const int64_t W = argc > 3 ? atoll(argv[3]) : 56, C = argc > 4 ? atoll(argv[4]) : 64;
  const int rounds = argc > 5 ? atoi(argv[5]) : 5;
  const int64_t P = H * W, J = 3 * C, M = B * P;
  std::vector<float> x(M * C), w(C * J), dqkv(M * J), dx(M * C), dW(C * J), dWimg(B * C * J);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) * 0.1f - 0.6f;
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 7) * 0.1f - 0.3f;
  const int threads = omp_get_max_threads();
  std::vector<std::vector<float>> planar(threads, std::vector<float>(J * P)), rows(threads, std::vector<float>(P * J));
  for (auto& p : planar) {
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(i % 11) * 0.01f;
  }
  dnnl::stream stream(engine);
  // dx [M, C] = dqkv [M, J] · Wᵀ (W [C, J] read as [J, C]); dW [C, J] = xᵀ (x [M, C] read as [C, M]) · dqkv
  Product dxAll(M, J, C, {J, 1}, {1, J}, {C, 1}), dwAll(C, M, J, {1, C}, {J, 1}, {J, 1});
  Product dxImg(P, J, C, {J, 1}, {1, J}, {C, 1}), dwImg(C, P, J, {1, C}, {J, 1}, {J, 1});
  auto separate = [&] {
#pragma omp parallel for schedule(dynamic)
    for (int64_t b = 0; b < B; ++b) toRows(planar[omp_get_thread_num()].data(), J, P, dqkv.data() + b * P * J, J);
    dxAll.run(stream, dqkv.data(), w.data(), dx.data());
    dwAll.run(stream, x.data(), dqkv.data(), dW.data());
  };
  auto fused = [&] {
#pragma omp parallel
    {
      dnnl::stream local(engine);
#pragma omp for schedule(dynamic)
      for (int64_t b = 0; b < B; ++b) {
        float* r = rows[omp_get_thread_num()].data();
        toRows(planar[omp_get_thread_num()].data(), J, P, r, J);
        dxImg.run(local, r, w.data(), dx.data() + b * P * C);
        dwImg.run(local, x.data() + b * P * C, r, dWimg.data() + b * C * J);
      }
    }
    std::fill(dW.begin(), dW.end(), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < C * J; ++i) dW[i] += dWimg[b * C * J + i];
    }
  };
  Product dxPlanar(P, J, C, {1, P}, {1, J}, {C, 1}), dwPlanar(C, P, J, {1, C}, {1, P}, {J, 1});
  auto planarFused = [&] {
#pragma omp parallel
    {
      dnnl::stream local(engine);
#pragma omp for schedule(dynamic)
      for (int64_t b = 0; b < B; ++b) {
        const float* d = planar[omp_get_thread_num()].data();
        dxPlanar.run(local, d, w.data(), dx.data() + b * P * C);
        dwPlanar.run(local, x.data() + b * P * C, d, dWimg.data() + b * C * J);
      }
    }
    std::fill(dW.begin(), dW.end(), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t i = 0; i < C * J; ++i) dW[i] += dWimg[b * C * J + i];
    }
  };
  auto layoutOnly = [&] {
#pragma omp parallel for schedule(dynamic)
    for (int64_t b = 0; b < B; ++b) toRows(planar[omp_get_thread_num()].data(), J, P, dqkv.data() + b * P * J, J);
  };
  auto productsAll = [&] {
    dxAll.run(stream, dqkv.data(), w.data(), dx.data());
    dwAll.run(stream, x.data(), dqkv.data(), dW.data());
  };
  auto productsImg = [&] {
#pragma omp parallel
    {
      dnnl::stream local(engine);
#pragma omp for schedule(dynamic)
      for (int64_t b = 0; b < B; ++b) {
        const float* r = dqkv.data() + b * P * J;
        dxImg.run(local, r, w.data(), dx.data() + b * P * C);
        dwImg.run(local, x.data() + b * P * C, r, dWimg.data() + b * C * J);
      }
    }
  };
  auto measure = [&](auto&& f, const char* name, int round) {
    for (int i = 0; i < 2; ++i) f();
    std::vector<double> wall, cpu;
    for (int i = 0; i < 7; ++i) {
      const double c0 = cpuMs();
      const auto t0 = std::chrono::steady_clock::now();
      for (int j = 0; j < kCalls; ++j) f();
      wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / kCalls);
      cpu.push_back((cpuMs() - c0) / kCalls);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    double s = 0;
    for (int64_t i = 0; i < C * J; ++i) s += dW[i];
    std::printf("round %d %-8s wall %6.2f ms  CPU %6.2f ms  (dW sum %.3e, dx[7] %.4f)\n", round, name, wall[3], cpu[3],
                s, dx[7]);
  };
  std::printf("[%ld,%ld,%ld,%ld] -> dqkv [%ld, %ld], %d threads\n", static_cast<long>(B), static_cast<long>(H),
              static_cast<long>(W), static_cast<long>(C), static_cast<long>(M), static_cast<long>(J), threads);
  for (int r = 1; r <= rounds; ++r) {
    measure(separate, "separate", r);
    measure(fused, "fused", r);
    measure(planarFused, "planar", r);
    measure(layoutOnly, "layout", r);
    measure(productsAll, "prod-all", r);
    measure(productsImg, "prod-img", r);
  }
}
