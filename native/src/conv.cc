// 2-D convolution on NHWC activations and HWIO filters (TensorFlow.js layouts) via oneDNN:
// forward, backward data and backward weights. Primitives let oneDNN pick its internal layouts
// (format_tag::any) and are cached per shape together with their reorders; the reorder buffers of a call
// are shared by all shapes (one per argument), as calls run one at a time.
#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common.h"

namespace sasa {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

/** Geometry of one convolution, as the TypeScript side computed it. */
struct ConvShape {
  int64_t n, h, w, c, oc, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr;

  /** Reads the geometry by name (src/backend/addon.ts ConvGeometryArg): tfjs's ConvInfo fields. */
  static ConvShape from(const Napi::Object& o) {
    const char* what = "conv geometry";
    auto f = [&](const char* name) { return intField(o, what, name); };
    ConvShape s{f("batch"),        f("inHeight"),      f("inWidth"),       f("inChannels"), f("outChannels"),
                f("filterHeight"), f("filterWidth"),   f("outHeight"),     f("outWidth"),   f("strideHeight"),
                f("strideWidth"),  f("dilationHeight"), f("dilationWidth"), f("padTop"),     f("padLeft"),
                f("padBottom"),    f("padRight")};
    for (int64_t v : {s.n, s.h, s.w, s.c, s.oc, s.kh, s.kw, s.oh, s.ow, s.sh, s.sw, s.dh, s.dw}) {
      if (v < 1) fail("conv", "sizes, strides and dilations must be >= 1");
    }
    for (int64_t v : {s.pt, s.pl, s.pb, s.pr}) {
      if (v < 0) fail("conv", "paddings must be >= 0");
    }
    return s;
  }
  std::string key() const {
    std::string k;
    for (int64_t v : {n, h, w, c, oc, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr}) {
      k += std::to_string(v);
      k += ',';
    }
    return k;
  }
  /** Elements of x [N, H, W, C], of y and dy [N, OH, OW, OC], and of the filter [KH, KW, C, OC]. */
  int64_t srcSize() const { return n * h * w * c; }
  int64_t dstSize() const { return n * oh * ow * oc; }
  int64_t weightsSize() const { return kh * kw * c * oc; }
  memory::desc src(tag t) const { return {{n, c, h, w}, dt::f32, t}; }
  memory::desc dst(tag t) const { return {{n, oc, oh, ow}, dt::f32, t}; }
  memory::desc weights(tag t) const { return {{oc, c, kh, kw}, dt::f32, t}; }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilation() const { return {dh - 1, dw - 1}; }
  memory::dims padL() const { return {pt, pl}; }
  memory::dims padR() const { return {pb, pr}; }
};

/**
 * Activations reordered into a primitive's layout for the backward pass to reuse. The forward
 * pass stores its reorder of x, the backward-data pass its reorder of dy; the backward-weights
 * pass, which needs both, finds them. Entries are keyed by a token the TypeScript side assigns
 * to each tfjs tensor (dataId), plus the data pointer and the layout: tfjs tensors are immutable,
 * so a token names fixed contents. Token 0 means "do not cache".
 */
class ReorderCache {
 public:
  memory get(double token, float* data, const memory::desc& user, const memory::desc& want,
             bool reuse) {
    if (reuse && token != 0) {
      for (Slot& s : slots_) {
        if (s.token == token && s.data == data && s.mem && s.mem.get_desc() == want) {
          s.used = ++clock_;
          return s.mem;
        }
      }
    }
    Slot* victim = &slots_[0];
    for (Slot& s : slots_) {
      if (s.token == token && s.data == data) {
        victim = &s;
        break;
      }
      if (s.used < victim->used) victim = &s;
    }
    if (!victim->mem || victim->mem.get_desc() != want) victim->mem = memory(want, cpuEngine());
    memory u(user, cpuEngine(), data);
    dnnl::reorder(u, victim->mem).execute(cpuStream(), u, victim->mem);
    victim->token = token;
    victim->data = data;
    victim->used = ++clock_;
    return victim->mem;
  }

 private:
  struct Slot {
    double token = 0;
    const float* data = nullptr;
    memory mem;
    uint64_t used = 0;
  };
  std::array<Slot, 4> slots_;
  uint64_t clock_ = 0;
};

ReorderCache& activationCache() {
  static ReorderCache cache;
  return cache;
}

/** Which argument of a call a staged buffer holds: a call stages at most one of each at a time. */
enum class Slot { Source, Weights, Destination };

/**
 * One reorder buffer per Slot, shared by every cached convolution and grown to the largest need: a
 * buffer per shape and pass would keep a copy of every filter (and some activations) in oneDNN's
 * layout for the life of the process (~3 copies of the weights: forward, backward data, backward weights).
 */
void* sharedScratch(Slot slot, size_t bytes) {
  struct Buffer {
    void* data = nullptr;
    size_t size = 0;
  };
  static std::array<Buffer, 3> buffers;
  Buffer& b = buffers[static_cast<size_t>(slot)];
  if (bytes > b.size) {
    std::free(b.data);
    b.data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!b.data) fail("conv", "out of memory for a reorder buffer");
    b.size = bytes;
  }
  return b.data;
}

/**
 * Filters reordered into a forward primitive's layout, kept across calls: a model's weights at
 * inference are the same tensors call after call, and reordering them costs as much as a small
 * convolution. Keyed, like ReorderCache, by the token of the filter's (immutable) tfjs tensor plus
 * its data pointer and the layout. A filter is kept on its second forward pass, not its first, so
 * that training (new weight tensors every step, each used once) keeps nothing; the TypeScript side
 * forgets a token when its tensor is freed (convForgetFilter).
 */
class FilterCache {
 public:
  /** The filter in `want`'s layout: the kept copy, or a fresh reorder into `scratch`. */
  memory get(double token, float* data, const memory::desc& user, const memory::desc& want, memory& scratch) {
    if (token != 0) {
      auto it = kept_.find(token);
      if (it != kept_.end() && it->second.data == data && it->second.mem.get_desc() == want) return it->second.mem;
    }
    const bool keep = token != 0 && !seen_.insert(token).second;
    memory target = keep ? memory(want, cpuEngine()) : scratch;
    memory u(user, cpuEngine(), data);
    dnnl::reorder(u, target).execute(cpuStream(), u, target);
    if (keep) kept_[token] = Slot{data, target};
    return target;
  }
  void forget(double token) {
    seen_.erase(token);
    kept_.erase(token);
  }
  size_t keptCount() const { return kept_.size(); }

 private:
  struct Slot {
    const float* data = nullptr;
    memory mem;
  };
  std::unordered_set<double> seen_;
  std::unordered_map<double, Slot> kept_;
};

FilterCache& filterCache() {
  static FilterCache cache;
  return cache;
}

/** A user buffer in a fixed layout plus, when the primitive wants another layout, a reorder. */
struct Staged {
  memory::desc user;
  memory::desc internal;
  Slot slot = Slot::Source;
  memory scratch;
  bool needed = false;

  Staged() = default;
  Staged(const memory::desc& userDesc, const memory::desc& primDesc, Slot where)
      : user(userDesc), internal(primDesc), slot(where), needed(userDesc != primDesc) {}
  /** The buffer in the primitive's layout: the shared one of its slot, valid until the next call. */
  memory& buffer() {
    void* data = sharedScratch(slot, internal.get_size());
    if (!scratch) scratch = memory(internal, cpuEngine(), data);
    else scratch.set_data_handle(data);
    return scratch;
  }
  /** Memory holding the input in the primitive's layout (reordering the user data if needed). */
  memory in(float* data) {
    memory u(user, cpuEngine(), data);
    if (!needed) return u;
    dnnl::reorder(u, buffer()).execute(cpuStream(), u, buffer());
    return buffer();
  }
  /** Like in(), through the filter cache: a filter seen before under `token` is reordered once. */
  memory inFilter(double token, float* data) {
    if (!needed) return memory(user, cpuEngine(), data);
    return filterCache().get(token, data, user, internal, buffer());
  }
  /** Like in(), through the activation cache: `reuse` takes an earlier reorder of `token`. */
  memory inShared(double token, float* data, bool reuse) {
    if (!needed) return memory(user, cpuEngine(), data);
    return activationCache().get(token, data, user, internal, reuse);
  }
  /** Memory the primitive writes; call out() afterwards to land it in the user buffer. */
  memory target(float* data) { return needed ? buffer() : memory(user, cpuEngine(), data); }
  void out(float* data) {
    if (!needed) return;
    memory u(user, cpuEngine(), data);
    dnnl::reorder(buffer(), u).execute(cpuStream(), scratch, u);
  }
};

struct ConvEntry {
  /** The activation layout of the backward passes: nhwc, or any (oneDNN picks, usually blocked). */
  tag bwdTag = tag::any;
  /** The forward pass as the backward passes see it (their hint). */
  dnnl::convolution_forward::primitive_desc hintPd;
  /** The forward pass that runs. */
  dnnl::convolution_forward::primitive_desc fwdPd;
  std::unique_ptr<dnnl::convolution_forward> fwd;
  Staged fwdSrc, fwdWei, fwdDst;

  std::unique_ptr<dnnl::convolution_backward_data> bwdData;
  Staged bdDiffDst, bdWei, bdDiffSrc;

  std::unique_ptr<dnnl::convolution_backward_weights> bwdWeights;
  Staged bwSrc, bwDiffDst, bwDiffWei;
};

std::unordered_map<std::string, std::unique_ptr<ConvEntry>>& cache() {
  static std::unordered_map<std::string, std::unique_ptr<ConvEntry>> entries;
  return entries;
}

/**
 * Activation layouts. `any` lets oneDNN choose (blocked nChw16c/8c, with reorders from and to
 * NHWC); `nhwc` uses the user layout directly. `auto` (default) takes NHWC for all three passes
 * when oneDNN has a brgemm kernel for the NHWC forward (AVX-512), and `any` otherwise. Timed alone,
 * some blocked backward kernels beat NHWC's, but inside a training step the reorders of x, dy and
 * dx to and from the blocked layout cost what they save, and their buffers 13 % of resnet26's
 * peak memory (BENCHMARKS.md). SASA_CONV_LAYOUT overrides it.
 */
enum class Layout { Any, Nhwc, Auto };

Layout layoutSetting() {
  static const Layout l = [] {
    const char* v = std::getenv("SASA_CONV_LAYOUT");
    const std::string s = v ? v : "auto";
    return s == "nhwc" ? Layout::Nhwc : s == "any" ? Layout::Any : Layout::Auto;
  }();
  return l;
}

dnnl::convolution_forward::primitive_desc forwardPd(const ConvShape& s, tag t) {
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training,
                                    dnnl::algorithm::convolution_direct, s.src(t),
                                    s.weights(tag::any), s.dst(t), s.strides(), s.dilation(),
                                    s.padL(), s.padR());
  return dnnl::convolution_forward::primitive_desc(d, cpuEngine());
}

ConvEntry& entryFor(const ConvShape& s) {
  auto& entries = cache();
  auto it = entries.find(s.key());
  if (it != entries.end()) return *it->second;
  auto e = std::make_unique<ConvEntry>();
  e->bwdTag = layoutSetting() == Layout::Nhwc ? tag::nhwc : tag::any;
  if (layoutSetting() == Layout::Auto) {
    auto nhwc = forwardPd(s, tag::nhwc);
    if (std::string(nhwc.impl_info_str()).rfind("brg", 0) == 0) e->bwdTag = tag::nhwc;
  }
  e->hintPd = forwardPd(s, e->bwdTag);
  e->fwdPd = e->hintPd;
  auto* raw = e.get();
  entries.emplace(s.key(), std::move(e));
  return *raw;
}

/**
 * A backward pass's primitive descriptor (Pass: convolution_backward_data or _weights): the
 * activations in the entry's backward layout, the filter in oneDNN's choice, the forward as hint.
 */
template <typename Pass>
typename Pass::primitive_desc backwardPd(const ConvShape& s, const ConvEntry& e) {
  typename Pass::desc d(dnnl::algorithm::convolution_direct, s.src(e.bwdTag), s.weights(tag::any),
                        s.dst(e.bwdTag), s.strides(), s.dilation(), s.padL(), s.padR());
  return typename Pass::primitive_desc(d, cpuEngine(), e.hintPd);
}

/** Runs `pass` with `args`, lands `result` (a staged output) in `out`, and waits for the stream. */
template <typename Pass>
void runStaged(Pass& pass, const std::unordered_map<int, memory>& args, Staged& result, float* out) {
  pass.execute(cpuStream(), args);
  result.out(out);
  cpuStream().wait();
}

Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  return guarded(info, "Conv2D", [&] {
    ConvShape s = ConvShape::from(objectArg(info, 3, "geometry"));
    float* x = floatArg(info, 0, "x", s.srcSize());
    float* w = floatArg(info, 1, "filter", s.weightsSize());
    float* y = floatArg(info, 2, "y", s.dstSize());
    ConvEntry& e = entryFor(s);
    if (!e.fwd) {
      e.fwd = std::make_unique<dnnl::convolution_forward>(e.fwdPd);
      e.fwdSrc = Staged(s.src(tag::nhwc), e.fwdPd.src_desc(), Slot::Source);
      e.fwdWei = Staged(s.weights(tag::hwio), e.fwdPd.weights_desc(), Slot::Weights);
      e.fwdDst = Staged(s.dst(tag::nhwc), e.fwdPd.dst_desc(), Slot::Destination);
    }
    memory src = e.fwdSrc.inShared(optNumArg(info, 4, "xToken", 0), x, false);
    memory wei = e.fwdWei.inFilter(optNumArg(info, 5, "filterToken", 0), w);
    memory dst = e.fwdDst.target(y);
    runStaged(*e.fwd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}}, e.fwdDst, y);
  });
}

/** to[0, n) = from[0, n). */
void copyParallel(const float* from, float* to, int64_t n) {
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) to[i] = from[i];
}

/** y = max(0, y) in place, NaN kept (tfjs's relu; oneDNN's relu post-op turns NaN into 0). */
void reluInPlace(float* y, int64_t n) {
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] < 0.0f ? 0.0f : y[i];
}

/** An inference convolution with a bias and, optionally, the residual summed inside the primitive (a post-op). */
struct FusedEntry {
  std::unique_ptr<dnnl::convolution_forward> fwd;
  Staged src, wei, dst;
};

FusedEntry& fusedEntryFor(const ConvShape& s, bool sum) {
  static std::unordered_map<std::string, std::unique_ptr<FusedEntry>> entries;
  const std::string key = s.key() + (sum ? "sum" : "");
  auto it = entries.find(key);
  if (it != entries.end()) return *it->second;
  const tag t = entryFor(s).bwdTag;
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                    s.src(t), s.weights(tag::any), memory::desc({s.oc}, dt::f32, tag::x), s.dst(t),
                                    s.strides(), s.dilation(), s.padL(), s.padR());
  dnnl::primitive_attr attr;
  dnnl::post_ops ops;
  if (sum) ops.append_sum(1.f);
  attr.set_post_ops(ops);
  dnnl::convolution_forward::primitive_desc pd(d, attr, cpuEngine());
  auto e = std::make_unique<FusedEntry>();
  e->fwd = std::make_unique<dnnl::convolution_forward>(pd);
  e->src = Staged(s.src(tag::nhwc), pd.src_desc(), Slot::Source);
  e->wei = Staged(s.weights(tag::hwio), pd.weights_desc(), Slot::Weights);
  e->dst = Staged(s.dst(tag::nhwc), pd.dst_desc(), Slot::Destination);
  auto* raw = e.get();
  entries.emplace(key, std::move(e));
  return *raw;
}

/**
 * convForwardFused(x, filter, bias [OC], y, geometry, relu, xToken?, filterToken?, residual?):
 * y = conv(x, filter) + bias (+ residual [N, OH, OW, OC]) in one oneDNN primitive, then max(0, ·) when relu as
 * one pass that keeps NaN (FusedConv2D, SasaConvResidualRelu at inference). The residual is copied into y (or
 * into the primitive's layout) first, and the primitive's sum post-op adds the convolution to it.
 */
Napi::Value ConvForwardFused(const Napi::CallbackInfo& info) {
  return guarded(info, "FusedConv2D", [&] {
    ConvShape s = ConvShape::from(objectArg(info, 4, "geometry"));
    float* x = floatArg(info, 0, "x", s.srcSize());
    float* w = floatArg(info, 1, "filter", s.weightsSize());
    float* bias = floatArg(info, 2, "bias", s.oc);
    float* y = floatArg(info, 3, "y", s.dstSize());
    const bool sum = info.Length() > 8 && !info[8].IsUndefined();
    float* residual = sum ? floatArg(info, 8, "residual", s.dstSize()) : nullptr;
    FusedEntry& e = fusedEntryFor(s, sum);
    memory src = e.src.inShared(optNumArg(info, 6, "xToken", 0), x, false);
    memory wei = e.wei.inFilter(optNumArg(info, 7, "filterToken", 0), w);
    if (residual && e.dst.needed) e.dst.in(residual);
    if (residual && !e.dst.needed) copyParallel(residual, y, s.dstSize());
    memory dst = e.dst.target(y);
    memory b({{s.oc}, dt::f32, tag::x}, cpuEngine(), bias);
    runStaged(*e.fwd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}}, e.dst,
              y);
    if (boolArg(info, 5, "relu")) reluInPlace(y, s.dstSize());
  });
}

Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  return guarded(info, "Conv2DBackpropInput", [&] {
    ConvShape s = ConvShape::from(objectArg(info, 3, "geometry"));
    float* dy = floatArg(info, 0, "dy", s.dstSize());
    float* w = floatArg(info, 1, "filter", s.weightsSize());
    float* dx = floatArg(info, 2, "dx", s.srcSize());
    ConvEntry& e = entryFor(s);
    if (!e.bwdData) {
      auto pd = backwardPd<dnnl::convolution_backward_data>(s, e);
      e.bwdData = std::make_unique<dnnl::convolution_backward_data>(pd);
      e.bdDiffDst = Staged(s.dst(tag::nhwc), pd.diff_dst_desc(), Slot::Source);
      e.bdWei = Staged(s.weights(tag::hwio), pd.weights_desc(), Slot::Weights);
      e.bdDiffSrc = Staged(s.src(tag::nhwc), pd.diff_src_desc(), Slot::Destination);
    }
    memory diffDst = e.bdDiffDst.inShared(optNumArg(info, 4, "dyToken", 0), dy, false);
    memory wei = e.bdWei.in(w);
    memory diffSrc = e.bdDiffSrc.target(dx);
    runStaged(*e.bwdData, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_SRC, diffSrc}},
              e.bdDiffSrc, dx);
  });
}

/** Whether every value of a[0, n) is finite: v − v is 0 for a finite v and NaN for NaN or ±∞. */
bool allFinite(const float* a, int64_t n) {
  float sum = 0.f;
#pragma omp parallel for simd reduction(+ : sum) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) sum += a[i] - a[i];
  return sum == 0.f;
}

/**
 * dw = the filter gradient; returns whether it is finite (a NaN or ±∞ in x or dy can make oneDNN's
 * strided pass multiply zero padding by it, which tfjs's loops skip: the caller then recomputes).
 */
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info) {
  bool finite = true;
  guarded(info, "Conv2DBackpropFilter", [&] {
    ConvShape s = ConvShape::from(objectArg(info, 3, "geometry"));
    float* x = floatArg(info, 0, "x", s.srcSize());
    float* dy = floatArg(info, 1, "dy", s.dstSize());
    float* dw = floatArg(info, 2, "dw", s.weightsSize());
    ConvEntry& e = entryFor(s);
    if (!e.bwdWeights) {
      auto pd = backwardPd<dnnl::convolution_backward_weights>(s, e);
      e.bwdWeights = std::make_unique<dnnl::convolution_backward_weights>(pd);
      e.bwSrc = Staged(s.src(tag::nhwc), pd.src_desc(), Slot::Source);
      e.bwDiffDst = Staged(s.dst(tag::nhwc), pd.diff_dst_desc(), Slot::Source);
      e.bwDiffWei = Staged(s.weights(tag::hwio), pd.diff_weights_desc(), Slot::Destination);
    }
    memory src = e.bwSrc.inShared(optNumArg(info, 4, "xToken", 0), x, true);
    memory diffDst = e.bwDiffDst.inShared(optNumArg(info, 5, "dyToken", 0), dy, true);
    memory diffWei = e.bwDiffWei.target(dw);
    runStaged(*e.bwdWeights, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWei}},
              e.bwDiffWei, dw);
    finite = allFinite(dw, s.weightsSize());
  });
  return Napi::Boolean::New(info.Env(), finite);
}

/** Drops what the filter cache holds for a token (its tensor was freed); returns how many filters it still keeps. */
Napi::Value ConvForgetFilter(const Napi::CallbackInfo& info) {
  filterCache().forget(numArg(info, 0, "filterToken"));
  return Napi::Number::New(info.Env(), static_cast<double>(filterCache().keptCount()));
}

}  // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("convForgetFilter", Napi::Function::New(env, ConvForgetFilter));
  exports.Set("convForward", Napi::Function::New(env, ConvForward));
  exports.Set("convForwardFused", Napi::Function::New(env, ConvForwardFused));
  exports.Set("convBackwardData", Napi::Function::New(env, ConvBackwardData));
  exports.Set("convBackwardWeights", Napi::Function::New(env, ConvBackwardWeights));
}

}  // namespace sasa
