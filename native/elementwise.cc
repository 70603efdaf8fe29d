// Element-wise passes that wasm runs on one thread, on every thread instead:
// - Add, Sub and Mul of two same-shape tensors: the gradient sums of backpropagation (a tensor used
//   twice gets both gradients added) on activations of up to 4M floats;
// - fcomb's per-sample bias + ReLU over the n-fold features (67M floats for 16 LIDC samples).
// Each element is the same IEEE float32 operations as wasm's kernels, so results match bit for bit.
#include "elementwise.h"

#include <omp.h>

namespace punet {
namespace {

template <typename Op>
void apply(long n, const float* __restrict a, const float* __restrict b, float* __restrict out, Op op) {
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) out[i] = op(a[i], b[i]);
}

}  // namespace

void binaryOp(int op, long n, const float* a, const float* b, float* out) {
  switch (op) {
    case kBinaryAdd: return apply(n, a, b, out, [](float x, float y) { return x + y; });
    case kBinarySub: return apply(n, a, b, out, [](float x, float y) { return x - y; });
    default: return apply(n, a, b, out, [](float x, float y) { return x * y; });
  }
}

void tiledBiasRelu(long batch, long samples, long pixels, long channels, const float* __restrict x, const float* __restrict bias,
                   float* __restrict out) {
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < batch; b++)
    for (long n = 0; n < samples; n++) {
      const float* in = x + b * pixels * channels;
      const float* add = bias + (b * samples + n) * channels;
      float* to = out + (b * samples + n) * pixels * channels;
      for (long p = 0; p < pixels; p++, in += channels, to += channels)
        for (long c = 0; c < channels; c++) {
          const float v = in[c] + add[c];
          to[c] = v > 0.f ? v : 0.f;
        }
    }
}

}  // namespace punet
