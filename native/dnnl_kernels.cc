// punet's native kernels, that read and write tensors in place on the tfjs wasm backend's heap:
// convolutions (punet's Winograd 3x3 and 1x1 products, oneDNN's direct kernels for the rest),
// oneDNN's matrix products and sums, and punet's own element-wise, pooling, resizing, split and
// Adam passes (the other native/ files). JS passes the heap (a Uint8Array over the wasm memory)
// and, per call, one Uint32Array of sizes and byte offsets (the heap may pass 2 GiB); nothing is
// copied. This file holds the N-API entry points, the params' layouts and the oneDNN primitives.
//
// Layouts are tfjs's: activations NHWC, filters HWIO, matrices row-major. oneDNN picks the filter
// layout its fastest kernel wants; filters (small) are reordered into and out of it per call,
// activations (large) never are. Primitives are cached by their shape.
#include <node_api.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "adam.h"
#include "elementwise.h"
#include "pointwise.h"
#include "resample.h"
#include "reduce.h"
#include "winograd.h"

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

// Layout of the Uint32Array a conv call passes (indices). A is x (forward, backward-weights) or
// dy (backward-data), B the filter or (backward-weights) dy. The backward kinds may take a mask
// shaped like dy (a ReLU's output: dy counts only where it is positive) and backward-weights a
// bias-gradient output (the masked dy summed over pixels); kNone where absent.
enum ConvParam {
  kKind, kN, kH, kW, kC, kO, kKH, kKW, kOH, kOW, kSH, kSW, kDH, kDW,
  kPadTop, kPadBottom, kPadLeft, kPadRight, kAct, kA, kB, kBias, kOut, kMask, kBiasGrad, kConvParams
};
constexpr uint32_t kNone = 0xffffffffu;  // an absent operand (no bias)
enum ConvKind { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

// A 64-byte aligned float buffer: some kernels (Winograd's backward-weights) store with aligned
// vector instructions, which fault on std::vector's 16-byte alignment.
struct AlignedBuffer {
  std::unique_ptr<float, decltype(&std::free)> data{nullptr, &std::free};
  size_t bytes = 0;
  void* get(size_t need) {
    if (need > bytes) {
      data.reset(static_cast<float*>(std::aligned_alloc(64, (need + 63) / 64 * 64)));
      if (!data) throw std::bad_alloc();
      bytes = need;
    }
    return data.get();
  }
};

// One cached convolution: the primitive plus the reorders between tfjs's HWIO filter and
// oneDNN's chosen filter layout, and a buffer holding the filter in that layout.
struct ConvEntry {
  dnnl::primitive conv;
  memory::desc src, dst, userWeights, weights, bias;
  bool reorderWeights = false;
  dnnl::reorder weightsReorder;  // fwd/bwd-data: HWIO -> chosen; bwd-weights: chosen -> HWIO
  AlignedBuffer weightsBuffer;
  // oneDNN's Winograd kernels read and write activations blocked by 16 channels, not NHWC: then
  // kernelSrc and kernelDst are those layouts and the activations pass through the shared scratch
  // buffers.
  bool winograd = false;
  // punet's own Winograd (winograd.cc): no oneDNN primitive at all.
  bool punetWinograd = false;
  memory::desc kernelSrc, kernelDst;
  dnnl::reorder srcReorder, dstReorder;  // into the kernel's layout for inputs, out of it for the output
};

// Winograd (F(4x4, 3x3)) does a 3x3 stride-1 convolution in about a quarter of the multiplies.
// punet's own (winograd.cc) runs on NHWC directly on any x86-64 CPU. oneDNN 2.6 has one for
// AVX-512 only, on activations blocked by 16 channels (so each call reorders two of them in and
// out of the scratch buffers below): on an AVX-512 Xeon, punet's was faster for every LIDC shape,
// at 1 and 2 threads (the LIDC step 1.14 vs 1.24 s wall at 2 threads), so it is the default
// everywhere. From 32 channels on Winograd pays for its transforms.
// PUNET_WINOGRAD picks: auto (punet's), onednn (where it has one, else none), punet or off (0);
// setWinograd changes it at run time. PUNET_WINOGRAD_MIN sets the channel threshold (read once).
memory::dim winogradMinChannels() {
  static const memory::dim n = std::getenv("PUNET_WINOGRAD_MIN") ? std::atoi(std::getenv("PUNET_WINOGRAD_MIN")) : 32;
  return n;
}
enum class WinogradMode { kAuto, kOneDnn, kPunet, kOff };
// The mode a name gives ("0" is the older PUNET_WINOGRAD=0); false for an unknown name.
bool winogradModeNamed(const std::string& name, WinogradMode* mode) {
  static const std::pair<const char*, WinogradMode> names[] = {
      {"auto", WinogradMode::kAuto}, {"onednn", WinogradMode::kOneDnn}, {"punet", WinogradMode::kPunet}, {"off", WinogradMode::kOff}, {"0", WinogradMode::kOff}};
  for (const auto& [n, m] : names) {
    if (name == n) return *mode = m, true;
  }
  return false;
}
WinogradMode winogradMode = [] {
  WinogradMode mode = WinogradMode::kAuto;
  if (const char* v = std::getenv("PUNET_WINOGRAD")) winogradModeNamed(v, &mode);
  return mode;
}();

// Whether oneDNN has Winograd kernels on this CPU: asked once, on a small convolution.
bool oneDnnHasWinograd() {
  static const bool has = [] {
    try {
      const memory::desc src({1, 32, 8, 8}, dt::f32, tag::any), weights({32, 32, 3, 3}, dt::f32, tag::any), dst({1, 32, 8, 8}, dt::f32, tag::any);
      dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_winograd, src, weights, dst, {1, 1},
                                           {1, 1}, {1, 1});
      dnnl::convolution_forward::primitive_desc pd(desc, cpuEngine());
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return has;
}

// Whose Winograd kernels eligible convolutions run under the current mode.
const char* winogradKernels() {
  switch (winogradMode) {
    case WinogradMode::kOff: return "off";
    case WinogradMode::kPunet: return "punet";
    case WinogradMode::kOneDnn: return oneDnnHasWinograd() ? "onednn" : "off";
    default: return "punet";
  }
}

// Two activation buffers in the Winograd kernels' layout, shared by every call (calls are
// sequential) and grown to the largest activation seen.
AlignedBuffer scratch[2];

struct MatMulEntry {
  dnnl::primitive matmul;
  memory::desc a, b, c;
};

std::unordered_map<std::string, std::unique_ptr<ConvEntry>> convCache;
std::unordered_map<std::string, std::unique_ptr<MatMulEntry>> matmulCache;
uint64_t calls = 0;

std::string keyOf(const uint32_t* p, int n) { return std::string(reinterpret_cast<const char*>(p), sizeof(uint32_t) * n); }

ConvEntry& convEntry(const uint32_t* p) {
  // Offsets are not part of the shape: key on everything before them, plus whether a bias is
  // fused (a primitive built with a bias cannot run without one, and the reverse).
  std::string key = keyOf(p, kA) + (p[kBias] == kNone ? 'n' : 'b');
  auto found = convCache.find(key);
  if (found != convCache.end()) return *found->second;

  auto entry = std::make_unique<ConvEntry>();
  const memory::dim N = p[kN], H = p[kH], W = p[kW], C = p[kC], O = p[kO];
  const memory::dims strides = {p[kSH], p[kSW]};
  const memory::dims dilates = {p[kDH] - 1, p[kDW] - 1};  // oneDNN counts the gaps
  const memory::dims padL = {p[kPadTop], p[kPadLeft]};
  const memory::dims padR = {p[kPadBottom], p[kPadRight]};
  entry->src = memory::desc({N, C, H, W}, dt::f32, tag::nhwc);
  entry->dst = memory::desc({N, O, p[kOH], p[kOW]}, dt::f32, tag::nhwc);
  entry->userWeights = memory::desc({O, C, p[kKH], p[kKW]}, dt::f32, tag::hwio);
  const bool hasBias = p[kKind] == kForward && p[kBias] != kNone;
  if (hasBias) entry->bias = memory::desc({O}, dt::f32, tag::a);
  auto& engine = cpuEngine();

  dnnl::post_ops ops;
  if (p[kAct] == punet::kActivationRelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  if (p[kAct] == punet::kActivationElu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, 1.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);

  // Builds the primitive with `algo`, activations in `src` / `dst` layouts. Backward primitives
  // need the forward one as a hint.
  auto build = [&](dnnl::algorithm algo, const memory::desc& src, const memory::desc& dst, tag weightsTag) {
    const memory::desc anyWeights({O, C, p[kKH], p[kKW]}, dt::f32, weightsTag);
    // (Winograd's forward_inference kernel insists on Winograd-domain filters; forward_training
    // computes the same thing.)
    const bool inference = p[kKind] == kForward && algo != dnnl::algorithm::convolution_winograd;
    const auto prop = inference ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
    auto fwdDesc = hasBias ? dnnl::convolution_forward::desc(prop, algo, src, anyWeights, entry->bias, dst, strides, dilates, padL, padR)
                           : dnnl::convolution_forward::desc(prop, algo, src, anyWeights, dst, strides, dilates, padL, padR);
    dnnl::convolution_forward::primitive_desc fwd(fwdDesc, attr, engine);
    if (p[kKind] == kForward) {
      entry->weights = fwd.weights_desc();
      entry->kernelSrc = fwd.src_desc();
      entry->kernelDst = fwd.dst_desc();
      entry->conv = dnnl::convolution_forward(fwd);
    } else if (p[kKind] == kBackwardData) {
      dnnl::convolution_backward_data::desc desc(algo, src, anyWeights, dst, strides, dilates, padL, padR);
      dnnl::convolution_backward_data::primitive_desc pd(desc, engine, fwd);
      entry->weights = pd.weights_desc();
      entry->kernelSrc = pd.diff_src_desc();
      entry->kernelDst = pd.diff_dst_desc();
      entry->conv = dnnl::convolution_backward_data(pd);
    } else {
      dnnl::convolution_backward_weights::desc desc(algo, src, anyWeights, dst, strides, dilates, padL, padR);
      dnnl::convolution_backward_weights::primitive_desc pd(desc, engine, fwd);
      entry->weights = pd.diff_weights_desc();
      entry->kernelSrc = pd.src_desc();
      entry->kernelDst = pd.diff_dst_desc();
      entry->conv = dnnl::convolution_backward_weights(pd);
    }
  };
  const bool winogradShape = p[kKH] == 3 && p[kKW] == 3 && p[kSH] == 1 && p[kSW] == 1 && p[kDH] == 1 && p[kDW] == 1 &&
                             std::min(C, O) >= winogradMinChannels();
  entry->winograd = false;
  if (winogradShape && winogradMode == WinogradMode::kOneDnn) {
    try {
      // Filters blocked by 16 x 16, not oneDNN's own Winograd-domain layout: the kernel accepts
      // both, and reordering a filter into the Winograd domain costs more than the kernel saves.
      build(dnnl::algorithm::convolution_winograd, memory::desc({N, C, H, W}, dt::f32, tag::any),
            memory::desc({N, O, p[kOH], p[kOW]}, dt::f32, tag::any), tag::OIhw16i16o);
      entry->winograd = true;
    } catch (const dnnl::error&) {
      // Not available for this shape or post-op: the direct kernel below.
    }
  }
  if (!entry->winograd && winogradShape && (winogradMode == WinogradMode::kAuto || winogradMode == WinogradMode::kPunet)) {
    entry->punetWinograd = true;
    auto& slot = convCache[key];
    slot = std::move(entry);
    return *slot;
  }
  if (!entry->winograd) build(dnnl::algorithm::convolution_direct, entry->src, entry->dst, tag::any);
  if (entry->winograd) {
    auto between = [&](const memory::desc& from, const memory::desc& to) {
      return dnnl::reorder(dnnl::reorder::primitive_desc(engine, from, engine, to));
    };
    // src is an input except in backward-data (diff_src); dst is an input except forward.
    entry->srcReorder = p[kKind] == kBackwardData ? between(entry->kernelSrc, entry->src) : between(entry->src, entry->kernelSrc);
    entry->dstReorder = p[kKind] == kForward ? between(entry->kernelDst, entry->dst) : between(entry->dst, entry->kernelDst);
  }
  entry->reorderWeights = entry->weights != entry->userWeights;
  if (entry->reorderWeights) {
    entry->weightsBuffer.get(entry->weights.get_size());
    entry->weightsReorder = p[kKind] == kBackwardWeights
                                ? dnnl::reorder(dnnl::reorder::primitive_desc(engine, entry->weights, engine, entry->userWeights))
                                : dnnl::reorder(dnnl::reorder::primitive_desc(engine, entry->userWeights, engine, entry->weights));
  }
  auto& slot = convCache[key];
  slot = std::move(entry);
  return *slot;
}

// Threads asked for (setThreads), and the least work (multiply-adds) that may use them: waking a
// sleeping OpenMP team costs more than a small kernel takes alone (the tiny model's convolutions
// cost 3.7x the CPU at 2 threads than at 1), so smaller calls run on the calling thread.
int requestedThreads = 1;
constexpr double kMinParallelMacs = 16e6;

// A float that a memory-bound kernel (copies, element-wise passes, pooling, resizing) reads or
// writes counts as this many multiply-adds: a second thread pays for its wake-up from 2M floats on
// (the LIDC step's skip concats and their gradients, up to 12.6M floats: 0.041 -> 0.026 s wall on
// 2 threads).
constexpr double kMemoryBoundWeight = 8;

void threadsFor(double macs) {
  const int n = macs < kMinParallelMacs ? 1 : requestedThreads;
  if (n != omp_get_max_threads()) omp_set_num_threads(n);
}

// A conv call's tensors: its offsets as pointers, nullptr where absent.
struct ConvOperands {
  float *a, *b, *bias, *out, *mask, *biasGrad;
};

ConvOperands operandsOf(uint8_t* heap, const uint32_t* p) {
  auto at = [&](int index) { return p[index] == kNone ? nullptr : reinterpret_cast<float*>(heap + p[index]); };
  return {at(kA), at(kB), at(kBias), at(kOut), at(kMask), at(kBiasGrad)};
}

void runPunetWinograd(const uint32_t* p, const ConvOperands& t) {
  const punet::WinogradShape s{p[kN], p[kH], p[kW], p[kC], p[kO], p[kOH], p[kOW], p[kPadTop], p[kPadLeft]};
  if (p[kKind] == kForward) punet::winogradForward(s, t.a, t.b, t.bias, p[kAct], t.out);
  else if (p[kKind] == kBackwardData) punet::winogradBackwardData(s, t.a, t.mask, t.b, t.out);
  else punet::winogradBackwardWeights(s, t.a, t.b, t.mask, t.out, t.biasGrad);
}

// A 1x1 convolution that is a plain matrix product: stride 1, no padding (pointwise.h).
bool isPointwise(const uint32_t* p) {
  return p[kKH] == 1 && p[kKW] == 1 && p[kSH] == 1 && p[kSW] == 1 && p[kPadTop] == 0 && p[kPadBottom] == 0 && p[kPadLeft] == 0 &&
         p[kPadRight] == 0 && p[kOH] == p[kH] && p[kOW] == p[kW];
}

uint64_t pointwiseCalls = 0;

void runPointwise(const uint32_t* p, const ConvOperands& t) {
  pointwiseCalls++;
  const punet::PointwiseShape s{long(p[kN]) * p[kH] * p[kW], p[kC], p[kO]};
  if (p[kKind] == kForward) punet::pointwiseForward(s, t.a, t.b, t.bias, p[kAct], t.out);
  else if (p[kKind] == kBackwardData) punet::pointwiseBackwardData(s, t.a, t.mask, t.b, t.out);
  else punet::pointwiseBackwardWeights(s, t.a, t.b, t.mask, t.out, t.biasGrad);
}

// oneDNN's own kernels cannot mask dy: the masked dy (and the bias gradient) are written out
// first, to a buffer kept between calls, and the kernel reads that instead.
AlignedBuffer maskedGradient;
std::vector<float> unusedBiasGrad;

void unmask(const uint32_t* p, ConvOperands& t) {
  float*& dy = p[kKind] == kBackwardData ? t.a : t.b;
  const size_t rows = size_t(p[kN]) * p[kOH] * p[kOW], channels = p[kO];
  float* dz = static_cast<float*>(maskedGradient.get(rows * channels * sizeof(float)));
  if (t.biasGrad == nullptr) unusedBiasGrad.resize(channels);
  punet::reluGradBias(rows, channels, dy, t.mask, dz, t.biasGrad ? t.biasGrad : unusedBiasGrad.data());
  dy = dz;
  t.mask = t.biasGrad = nullptr;
}

void runConv(uint8_t* heap, const uint32_t* p) {
  // Before the lookup: oneDNN fixes a primitive's thread count when it is created.
  threadsFor(double(p[kN]) * p[kOH] * p[kOW] * p[kO] * p[kKH] * p[kKW] * p[kC]);
  ConvOperands t = operandsOf(heap, p);
  if (isPointwise(p)) return runPointwise(p, t);
  ConvEntry& e = convEntry(p);
  if (e.punetWinograd) return runPunetWinograd(p, t);
  if (t.mask) unmask(p, t);
  auto& engine = cpuEngine();
  auto& stream = cpuStream();
  // An activation in the kernel's layout: the tensor itself, or (Winograd) a scratch buffer that
  // is filled from it before the call (`in`) or copied into it after (`out`).
  struct Pending {
    dnnl::reorder* reorder;
    memory staged, tensor;
  };
  std::vector<Pending> after;
  int used = 0;
  auto activation = [&](const memory::desc& user, const memory::desc& kernel, dnnl::reorder& reorder, void* data, bool in) {
    memory tensor(user, engine, data);
    if (!e.winograd) return tensor;
    memory staged(kernel, engine, scratch[used++].get(kernel.get_size()));
    if (in) reorder.execute(stream, tensor, staged);
    else after.push_back({&reorder, staged, tensor});
    return staged;
  };
  if (p[kKind] == kBackwardWeights) {
    memory src = activation(e.src, e.kernelSrc, e.srcReorder, t.a, true);
    memory diffDst = activation(e.dst, e.kernelDst, e.dstReorder, t.b, true);
    memory userDiffW(e.userWeights, engine, t.out);
    memory diffW = e.reorderWeights ? memory(e.weights, engine, e.weightsBuffer.data.get()) : userDiffW;
    e.conv.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffW}});
    if (e.reorderWeights) e.weightsReorder.execute(stream, diffW, userDiffW);
  } else {
    memory userW(e.userWeights, engine, t.b);
    memory w = e.reorderWeights ? memory(e.weights, engine, e.weightsBuffer.data.get()) : userW;
    if (e.reorderWeights) e.weightsReorder.execute(stream, userW, w);
    if (p[kKind] == kForward) {
      memory src = activation(e.src, e.kernelSrc, e.srcReorder, t.a, true);
      memory dst = activation(e.dst, e.kernelDst, e.dstReorder, t.out, false);
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
      if (t.bias) args.insert({DNNL_ARG_BIAS, memory(e.bias, engine, t.bias)});
      e.conv.execute(stream, args);
    } else {
      memory diffDst = activation(e.dst, e.kernelDst, e.dstReorder, t.a, true);
      memory diffSrc = activation(e.src, e.kernelSrc, e.srcReorder, t.out, false);
      e.conv.execute(stream, {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, diffSrc}});
    }
  }
  for (auto& pending : after) pending.reorder->execute(stream, pending.staged, pending.tensor);
  stream.wait();
}

// Layout of a matmul call's Uint32Array: C[batch, M, N] = op(A)[batch|1, M, K] x op(B)[batch|1, K, N].
enum MatMulParam { mBatchA, mBatchB, mM, mK, mN, mTransA, mTransB, mA, mB, mOut, kMatMulParams };

memory::desc matrixDesc(memory::dim batch, memory::dim rows, memory::dim cols, bool transposed) {
  // A transposed operand is the stored [batch, cols, rows] matrix read with swapped strides.
  return transposed ? memory::desc({batch, rows, cols}, dt::f32, memory::dims{rows * cols, 1, rows})
                    : memory::desc({batch, rows, cols}, dt::f32, memory::dims{rows * cols, cols, 1});
}

void runMatMul(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(std::max(p[mBatchA], p[mBatchB])) * p[mM] * p[mK] * p[mN]);
  std::string key = keyOf(p, mA);
  auto found = matmulCache.find(key);
  if (found == matmulCache.end()) {
    auto entry = std::make_unique<MatMulEntry>();
    const memory::dim batch = std::max(p[mBatchA], p[mBatchB]);
    entry->a = matrixDesc(p[mBatchA], p[mM], p[mK], p[mTransA] != 0);
    entry->b = matrixDesc(p[mBatchB], p[mK], p[mN], p[mTransB] != 0);
    entry->c = memory::desc({batch, p[mM], p[mN]}, dt::f32, tag::abc);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(entry->a, entry->b, entry->c), cpuEngine());
    entry->matmul = dnnl::matmul(pd);
    found = matmulCache.emplace(key, std::move(entry)).first;
  }
  MatMulEntry& e = *found->second;
  auto& engine = cpuEngine();
  memory a(e.a, engine, heap + p[mA]), b(e.b, engine, heap + p[mB]), c(e.c, engine, heap + p[mOut]);
  e.matmul.execute(cpuStream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
  cpuStream().wait();
}

// Layout of a sum call's Uint32Array: a row-major tensor seen as [outer, reduced, inner] summed
// over its middle axis into [outer, inner]. oneDNN 2.6's reduction primitive runs a reference loop
// for this layout (slower than wasm), so the sum is a product with a vector of ones instead, or,
// for contiguous rows (inner 1), punet's own row sums (reduce.cc).
enum SumParam { rOuter, rReduced, rInner, rA, rOut, kSumParams };

std::unordered_map<std::string, std::unique_ptr<MatMulEntry>> sumCache;
std::vector<float> ones;

void runSum(uint8_t* heap, const uint32_t* p) {
  const memory::dim outer = p[rOuter], reduced = p[rReduced], inner = p[rInner];
  threadsFor(double(outer) * reduced * inner);
  if (inner == 1) {
    punet::sumRows(reinterpret_cast<const float*>(heap + p[rA]), outer, reduced, reinterpret_cast<float*>(heap + p[rOut]));
    return;
  }
  if (ones.size() < static_cast<size_t>(reduced)) ones.assign(reduced, 1.f);
  std::string key = keyOf(p, rA);
  auto found = sumCache.find(key);
  if (found == sumCache.end()) {
    auto entry = std::make_unique<MatMulEntry>();
    entry->a = memory::desc({1, 1, reduced}, dt::f32, tag::abc);
    entry->b = memory::desc({outer, reduced, inner}, dt::f32, tag::abc);
    entry->c = memory::desc({outer, 1, inner}, dt::f32, tag::abc);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(entry->a, entry->b, entry->c), cpuEngine());
    entry->matmul = dnnl::matmul(pd);
    found = sumCache.emplace(key, std::move(entry)).first;
  }
  MatMulEntry& e = *found->second;
  auto& engine = cpuEngine();
  memory a(e.a, engine, ones.data()), b(e.b, engine, heap + p[rA]), c(e.c, engine, heap + p[rOut]);
  e.matmul.execute(cpuStream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
  cpuStream().wait();
}

// Layout of an average-pool call: NHWC sizes, window, strides, padding (TensorFlow's windows: each
// divided by its real pixels), then the pooled tensor (y or dy) and the full-size one (x or dx).
// Both passes are punet's loops (resample.cc): oneDNN's NHWC average pool had raised the LIDC
// step's peak RSS by 150 MB, and its backward pass took 9 ms a step on 2 threads.
enum PoolParam { pN, pH, pW, pC, pOH, pOW, pKH, pKW, pSH, pSW, pTop, pBottom, pLeft, pRight, pPooled, pFull, kPoolParams };

punet::PoolShape poolShape(const uint32_t* p) {
  return {p[pN], p[pH], p[pW], p[pC], p[pOH], p[pOW], p[pKH], p[pKW], p[pSH], p[pSW], p[pTop], p[pLeft]};
}

void runAvgPool(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[pN]) * p[pH] * p[pW] * p[pC] * kMemoryBoundWeight);
  punet::avgPool(poolShape(p), reinterpret_cast<const float*>(heap + p[pFull]), reinterpret_cast<float*>(heap + p[pPooled]));
}

void runAvgPoolGrad(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[pN]) * p[pH] * p[pW] * p[pC] * kMemoryBoundWeight);
  punet::avgPoolGrad(poolShape(p), reinterpret_cast<const float*>(heap + p[pPooled]), reinterpret_cast<float*>(heap + p[pFull]));
}

// A split along one axis of a row-major tensor seen as [outer, axis, inner]: part k takes
// sizes[k] consecutive entries of the axis; or the reverse, a concat (join) of the parts into x.
// Layout: outer, inner, axis, n, x, then (size, part) x n.
enum SplitParam { sOuter, sInner, sAxis, sCount, sA, sParts };

void runSplit(uint8_t* heap, const uint32_t* p, bool join) {
  const size_t outer = p[sOuter], inner = p[sInner], axis = p[sAxis], n = p[sCount];
  float* x = reinterpret_cast<float*>(heap + p[sA]);
  std::vector<size_t> begin(n);
  for (size_t k = 0, at = 0; k < n; at += p[sParts + 2 * k], k++) begin[k] = at;
  threadsFor(double(outer) * axis * inner * kMemoryBoundWeight);
  auto copy = [&](size_t o, size_t k, size_t from, size_t count) {
    const size_t size = p[sParts + 2 * k];
    float* part = reinterpret_cast<float*>(heap + p[sParts + 2 * k + 1]) + o * size * inner + from;
    float* inX = x + (o * axis + begin[k]) * inner + from;
    if (join) std::memcpy(inX, part, count * sizeof(float));
    else std::memcpy(part, inX, count * sizeof(float));
  };
  if (outer >= 64) {
    // Many rows (a skip concat over pixels): threads take rows.
#pragma omp parallel for schedule(static)
    for (long long o = 0; o < static_cast<long long>(outer); o++)
      for (size_t k = 0; k < n; k++) copy(o, k, 0, p[sParts + 2 * k] * inner);
    return;
  }
  // Few rows (the optimizer's flat vector cut into its variables): threads take pieces of at most
  // 64K floats, so one large part does not leave the others idle.
  constexpr size_t kPiece = 1 << 16;
  struct Piece {
    size_t o, k, from, count;
  };
  std::vector<Piece> pieces;
  for (size_t o = 0; o < outer; o++)
    for (size_t k = 0; k < n; k++)
      for (size_t total = p[sParts + 2 * k] * inner, from = 0; from < total; from += kPiece) pieces.push_back({o, k, from, std::min(kPiece, total - from)});
#pragma omp parallel for schedule(static)
  for (long long i = 0; i < static_cast<long long>(pieces.size()); i++) copy(pieces[i].o, pieces[i].k, pieces[i].from, pieces[i].count);
}

// Layout of a bilinear resize call (resample.cc): NHWC sizes of the source x and of the resized
// y, alignCorners, halfPixelCenters, then the source-sized tensor (x or dx) and the resized one
// (y or dy).
enum ResizeParam { zN, zH, zW, zC, zOH, zOW, zAlign, zHalfPixel, zSource, zResized, kResizeParams };

punet::ResizeShape resizeShape(const uint32_t* p) {
  return {p[zN], p[zH], p[zW], p[zC], p[zOH], p[zOW], p[zAlign] != 0, p[zHalfPixel] != 0};
}

void runResizeBilinear(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[zN]) * p[zOH] * p[zOW] * p[zC] * kMemoryBoundWeight);
  punet::resizeBilinear(resizeShape(p), reinterpret_cast<const float*>(heap + p[zSource]), reinterpret_cast<float*>(heap + p[zResized]));
}

void runResizeBilinearGrad(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[zN]) * p[zOH] * p[zOW] * p[zC] * kMemoryBoundWeight);
  punet::resizeBilinearGrad(resizeShape(p), reinterpret_cast<const float*>(heap + p[zResized]), reinterpret_cast<float*>(heap + p[zSource]));
}

// Layout of an Adam call's Uint32Array: the element count, seven float32 vectors (gradient, m, v,
// value in; m, v, value out), then the step's scalars (AdamScalars' fields, as float32 bits).
enum AdamParam { dCount, dGradient, dM, dV, dValue, dMOut, dVOut, dValueOut, dScalars, kAdamParams = dScalars + 8 };
static_assert(sizeof(punet::AdamScalars) == 8 * sizeof(float), "AdamScalars is eight floats");

void runAdam(uint8_t* heap, const uint32_t* p) {
  punet::AdamScalars s;
  std::memcpy(&s, p + dScalars, sizeof(s));
  const auto at = [&](int i) { return reinterpret_cast<float*>(heap + p[i]); };
  threadsFor(double(p[dCount]) * kMemoryBoundWeight);
  punet::adamUpdate(s, p[dCount], at(dGradient), at(dM), at(dV), at(dValue), at(dMOut), at(dVOut), at(dValueOut));
}

// Layout of a binary call: the operation (BinaryOp), the element count, a, b, out.
enum BinaryParam { eOp, eCount, eA, eB, eOut, kBinaryParams };

void runBinary(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[eCount]) * kMemoryBoundWeight);
  const auto at = [&](int i) { return reinterpret_cast<float*>(heap + p[i]); };
  punet::binaryOp(static_cast<int>(p[eOp]), p[eCount], at(eA), at(eB), at(eOut));
}

// Layout of a tiled bias + ReLU call: batch, samples, pixels, channels, x, bias, out.
enum TiledParam { tBatch, tSamples, tPixels, tChannels, tX, tBias, tOut, kTiledParams };

void runTiledBiasRelu(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[tBatch]) * p[tSamples] * p[tPixels] * p[tChannels] * kMemoryBoundWeight);
  const auto at = [&](int i) { return reinterpret_cast<float*>(heap + p[i]); };
  punet::tiledBiasRelu(p[tBatch], p[tSamples], p[tPixels], p[tChannels], at(tX), at(tBias), at(tOut));
}

// Layout of its gradient's call: batch, samples, pixels, channels, dy, y, dx, dbias.
enum TiledGradParam { uBatch, uSamples, uPixels, uChannels, uDy, uY, uDx, uDbias, kTiledGradParams };

void runTiledBiasReluGrad(uint8_t* heap, const uint32_t* p) {
  threadsFor(double(p[uBatch]) * p[uSamples] * p[uPixels] * p[uChannels] * kMemoryBoundWeight);
  const auto at = [&](int i) { return reinterpret_cast<float*>(heap + p[i]); };
  punet::tiledBiasReluGrad(p[uBatch], p[uSamples], p[uPixels], p[uChannels], at(uDy), at(uY), at(uDx), at(uDbias));
}

// ---- N-API glue -------------------------------------------------------------------------------

napi_value throwError(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

// Reads (heap: Uint8Array, params: Uint32Array) and checks that every offset in params[first..]
// lies inside the heap (the sizes are checked by the JS caller, which owns the tensors).
bool readArgs(napi_env env, napi_callback_info info, uint8_t** heap, size_t* heapBytes, const uint32_t** params,
              size_t expected, size_t* actual = nullptr) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 2) {
    throwError(env, "expected (heap: Uint8Array, params: Uint32Array)");
    return false;
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    throwError(env, "heap must be a Uint8Array");
    return false;
  }
  *heap = static_cast<uint8_t*>(data);
  *heapBytes = length;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_uint32_array ||
      (actual == nullptr ? length != expected : length < expected)) {
    throwError(env, "params must be an Uint32Array of the documented length");
    return false;
  }
  *params = static_cast<const uint32_t*>(data);
  if (actual != nullptr) *actual = length;
  return true;
}

// Blocks every signal on the calling thread for its lifetime. oneDNN's AVX-512 sgemm kernels point
// the stack pointer into the heap while they run, so a signal handled there (a profiler's SIGPROF,
// Ctrl-C) writes its frame over heap memory (oneDNN issue #4845; `node --cpu-prof` aborted a LIDC
// step with "corrupted size vs. prev_size"). Blocked, a signal waits until the kernel returns;
// OpenMP's worker threads, started inside a kernel, inherit the mask and never take one.
struct SignalsBlocked {
  sigset_t saved;
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved, nullptr); }
};

template <typename Run>
napi_value guarded(napi_env env, Run run) {
  const SignalsBlocked blocked;
  try {
    run();
    calls++;
  } catch (const dnnl::error& err) {
    return throwError(env, (std::string("oneDNN: ") + err.what()).c_str());
  } catch (const std::exception& err) {
    return throwError(env, err.what());
  }
  return nullptr;
}

// A kernel's entry point: reads (heap, params) of the kernel's length, asks `check` for the first
// problem with the params (nullptr for none), then runs `run(heap, params)` as `guarded` does.
using ParamCheck = const char* (*)(const uint32_t* p, size_t heapBytes);
napi_value kernelEntry(napi_env env, napi_callback_info info, size_t params, ParamCheck check, void (*run)(uint8_t*, const uint32_t*)) {
  uint8_t* heap;
  size_t bytes;
  const uint32_t* p;
  if (!readArgs(env, info, &heap, &bytes, &p, params)) return nullptr;
  if (const char* problem = check(p, bytes)) return throwError(env, problem);
  return guarded(env, [&] { run(heap, p); });
}

// Whether `floats` floats from byte offset `offset` lie inside a heap of `bytes`.
bool fits(uint32_t offset, double floats, size_t bytes) { return offset + floats * sizeof(float) <= static_cast<double>(bytes); }

napi_value Conv(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kConvParams, [](const uint32_t* p, size_t bytes) -> const char* {
    for (int i : {kA, kB, kBias, kOut, kMask, kBiasGrad}) {
      if (p[i] != kNone && static_cast<size_t>(p[i]) >= bytes) return "tensor offset outside the heap";
    }
    if (p[kKind] > kBackwardWeights) return "unknown convolution kind";
    if (p[kMask] != kNone && p[kKind] == kForward) return "a mask is for the backward kinds only";
    return p[kBiasGrad] != kNone && p[kKind] != kBackwardWeights ? "a bias gradient is for backward-weights only" : nullptr;
  }, runConv);
}

napi_value MatMul(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kMatMulParams, [](const uint32_t* p, size_t bytes) -> const char* {
    for (int i : {mA, mB, mOut}) {
      if (static_cast<size_t>(p[i]) >= bytes) return "tensor offset outside the heap";
    }
    return nullptr;
  }, runMatMul);
}

napi_value Sum(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kSumParams, [](const uint32_t* p, size_t bytes) -> const char* {
    const bool inside = fits(p[rA], double(p[rOuter]) * p[rReduced] * p[rInner], bytes) && fits(p[rOut], double(p[rOuter]) * p[rInner], bytes);
    return inside ? nullptr : "sum: tensor outside the heap";
  }, runSum);
}

bool poolInside(const uint32_t* p, size_t bytes) {
  return fits(p[pPooled], double(p[pN]) * p[pOH] * p[pOW] * p[pC], bytes) && fits(p[pFull], double(p[pN]) * p[pH] * p[pW] * p[pC], bytes);
}

napi_value AvgPool(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kPoolParams, [](const uint32_t* p, size_t bytes) -> const char* {
    return poolInside(p, bytes) ? nullptr : "avgPool: tensor outside the heap";
  }, runAvgPool);
}

napi_value AvgPoolGrad(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kPoolParams, [](const uint32_t* p, size_t bytes) -> const char* {
    return poolInside(p, bytes) ? nullptr : "avgPoolGrad: tensor outside the heap";
  }, runAvgPoolGrad);
}

napi_value SplitOrConcat(napi_env env, napi_callback_info info, bool join) {
  uint8_t* heap;
  size_t bytes, length;
  const uint32_t* p;
  if (!readArgs(env, info, &heap, &bytes, &p, sParts, &length)) return nullptr;
  if (length != sParts + 2 * static_cast<size_t>(p[sCount])) return throwError(env, "split: params must hold (size, offset) per output");
  const size_t rowBytes = static_cast<size_t>(p[sAxis]) * p[sInner] * sizeof(float);
  if (p[sA] + static_cast<size_t>(p[sOuter]) * rowBytes > bytes) return throwError(env, "split: input outside the heap");
  size_t total = 0;
  for (size_t k = 0; k < p[sCount]; k++) {
    const size_t partBytes = static_cast<size_t>(p[sOuter]) * p[sParts + 2 * k] * p[sInner] * sizeof(float);
    if (p[sParts + 2 * k + 1] + partBytes > bytes) return throwError(env, "split: output outside the heap");
    total += p[sParts + 2 * k];
  }
  if (total != p[sAxis]) return throwError(env, "split: the sizes must add up to the axis");
  return guarded(env, [&] { runSplit(heap, p, join); });
}

napi_value Split(napi_env env, napi_callback_info info) { return SplitOrConcat(env, info, false); }
napi_value Concat(napi_env env, napi_callback_info info) { return SplitOrConcat(env, info, true); }

napi_value Adam(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kAdamParams, [](const uint32_t* p, size_t bytes) -> const char* {
    for (int i = dGradient; i < dScalars; i++) {
      if (!fits(p[i], p[dCount], bytes)) return "adam: vector outside the heap";
    }
    return nullptr;
  }, runAdam);
}

napi_value Binary(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kBinaryParams, [](const uint32_t* p, size_t bytes) -> const char* {
    if (p[eOp] > punet::kBinaryMul) return "binary: unknown operation";
    for (int i : {eA, eB, eOut}) {
      if (!fits(p[i], p[eCount], bytes)) return "binary: tensor outside the heap";
    }
    return nullptr;
  }, runBinary);
}

napi_value TiledBiasRelu(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kTiledParams, [](const uint32_t* p, size_t bytes) -> const char* {
    const double x = double(p[tBatch]) * p[tPixels] * p[tChannels];
    const bool inside = fits(p[tX], x, bytes) && fits(p[tBias], double(p[tBatch]) * p[tSamples] * p[tChannels], bytes) &&
                        fits(p[tOut], x * p[tSamples], bytes);
    return inside ? nullptr : "tiledBiasRelu: tensor outside the heap";
  }, runTiledBiasRelu);
}

napi_value TiledBiasReluGrad(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kTiledGradParams, [](const uint32_t* p, size_t bytes) -> const char* {
    const double image = double(p[uPixels]) * p[uChannels], samples = double(p[uBatch]) * p[uSamples];
    const bool inside = fits(p[uDy], samples * image, bytes) && fits(p[uY], samples * image, bytes) &&
                        fits(p[uDx], double(p[uBatch]) * image, bytes) && fits(p[uDbias], samples * p[uChannels], bytes);
    return inside ? nullptr : "tiledBiasReluGrad: tensor outside the heap";
  }, runTiledBiasReluGrad);
}

// The problem with a resize call's params, named for the forward or the gradient kernel, or nullptr.
const char* resizeProblem(const uint32_t* p, size_t bytes, bool gradient) {
  const bool inside = fits(p[zResized], double(p[zN]) * p[zOH] * p[zOW] * p[zC], bytes) && fits(p[zSource], double(p[zN]) * p[zH] * p[zW] * p[zC], bytes);
  if (!inside) return gradient ? "resizeBilinearGrad: tensor outside the heap" : "resizeBilinear: tensor outside the heap";
  if (p[zH] == 0 || p[zW] == 0) return gradient ? "resizeBilinearGrad: empty image" : "resizeBilinear: empty image";
  return nullptr;
}

napi_value ResizeBilinear(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kResizeParams, [](const uint32_t* p, size_t bytes) { return resizeProblem(p, bytes, false); }, runResizeBilinear);
}

napi_value ResizeBilinearGrad(napi_env env, napi_callback_info info) {
  return kernelEntry(env, info, kResizeParams, [](const uint32_t* p, size_t bytes) { return resizeProblem(p, bytes, true); }, runResizeBilinearGrad);
}

void clearCaches() {
  convCache.clear();
  matmulCache.clear();
  sumCache.clear();
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return throwError(env, "threads must be >= 1");
  requestedThreads = n;
  omp_set_num_threads(n);
  clearCaches();  // cached primitives keep the thread count they were created with
  return nullptr;
}

// setWinograd('auto' | 'onednn' | 'punet' | 'off'): which Winograd kernels eligible convolutions use
// from the next call on (see WinogradMode).
napi_value SetWinograd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char mode[16] = {0};
  size_t length = 0;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 1 || napi_get_value_string_utf8(env, argv[0], mode, sizeof(mode), &length) != napi_ok) {
    return throwError(env, "setWinograd takes 'auto', 'onednn', 'punet' or 'off'");
  }
  if (!winogradModeNamed(std::string(mode, length), &winogradMode)) return throwError(env, "setWinograd takes 'auto', 'onednn', 'punet' or 'off'");
  clearCaches();
  return nullptr;
}

// setWinogradLanes(8 | 16): the portable copy of punet's Winograd kernels, or (AVX-512 CPUs only)
// the AVX-512 one, from the next call on (winograd_dispatch.cc).
napi_value SetWinogradLanes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || !punet::setWinogradLanes(n)) {
    return throwError(env, "setWinogradLanes takes 8, or 16 where the CPU has AVX-512");
  }
  return nullptr;
}

napi_value Stats(napi_env env, napi_callback_info) {
  size_t bytes = 0;
  for (auto& kv : convCache) bytes += kv.second->weightsBuffer.bytes;
  bytes += ones.size() * sizeof(float) + scratch[0].bytes + scratch[1].bytes + punet::winogradBufferBytes();
  napi_value out, value;
  napi_create_object(env, &out);
  auto set = [&](const char* name, double v) {
    napi_create_double(env, v, &value);
    napi_set_named_property(env, out, name, value);
  };
  set("convPrimitives", static_cast<double>(convCache.size()));
  size_t winograd = 0, punetWinograd = 0;
  for (auto& kv : convCache) {
    winograd += kv.second->winograd || kv.second->punetWinograd ? 1 : 0;
    punetWinograd += kv.second->punetWinograd ? 1 : 0;
  }
  set("winogradPrimitives", static_cast<double>(winograd));
  set("punetWinogradPrimitives", static_cast<double>(punetWinograd));
  set("matmulPrimitives", static_cast<double>(matmulCache.size()));
  set("sumPrimitives", static_cast<double>(sumCache.size()));
  set("bufferBytes", static_cast<double>(bytes));
  set("calls", static_cast<double>(calls));
  set("pointwiseCalls", static_cast<double>(pointwiseCalls));
  set("threads", omp_get_max_threads());
  set("winogradLanes", punet::winogradLanes());
  napi_create_string_utf8(env, dnnl_version()->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other", NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, out, "runtime", value);
  napi_create_string_utf8(env, winogradKernels(), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, out, "winograd", value);
  const dnnl_version_t* v = dnnl_version();
  std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_create_string_utf8(env, version.c_str(), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, out, "version", value);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sum", nullptr, Sum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPool", nullptr, AvgPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPoolGrad", nullptr, AvgPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"split", nullptr, Split, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"concat", nullptr, Concat, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeBilinear", nullptr, ResizeBilinear, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeBilinearGrad", nullptr, ResizeBilinearGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tiledBiasRelu", nullptr, TiledBiasRelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tiledBiasReluGrad", nullptr, TiledBiasReluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setWinograd", nullptr, SetWinograd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setWinogradLanes", nullptr, SetWinogradLanes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
