// Element-wise passes that wasm runs on one thread, on every thread instead:
// - Add, Sub and Mul of two same-shape tensors: the gradient sums of backpropagation (a tensor used
//   twice gets both gradients added) on activations of up to 4M floats;
// - fcomb's per-sample bias + ReLU over the n-fold features (67M floats for 16 LIDC samples), and
//   its gradient.
// Each element is the same IEEE float32 operations as wasm's kernels, so results match bit for bit.
#include "elementwise.h"

#include <omp.h>

#include <algorithm>
#include <vector>

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

void tiledBiasReluGrad(long batch, long samples, long pixels, long channels, const float* __restrict dy, const float* __restrict y,
                       float* __restrict dx, float* __restrict dbias) {
  // A thread takes whole images, so every sum runs in one fixed order whatever the thread count.
#pragma omp parallel for schedule(static)
  for (long b = 0; b < batch; b++) {
    float* into = dx + b * pixels * channels;
    // The pixel sums: float over blocks of 64 pixels, added up in double.
    std::vector<float> block(channels);
    std::vector<double> total(channels);
    for (long n = 0; n < samples; n++) {
      const long at = (b * samples + n) * pixels * channels;
      const float* g = dy + at;
      const float* out = y + at;
      std::fill(total.begin(), total.end(), 0.0);
      for (long p0 = 0; p0 < pixels; p0 += 64) {
        std::fill(block.begin(), block.end(), 0.f);
        for (long p = p0; p < std::min(pixels, p0 + 64); p++)
          for (long c = 0; c < channels; c++) {
            const long i = p * channels + c;
            const float d = out[i] > 0.f ? g[i] : 0.f;
            block[c] += d;
            into[i] = n == 0 ? d : into[i] + d;
          }
        for (long c = 0; c < channels; c++) total[c] += block[c];
      }
      for (long c = 0; c < channels; c++) dbias[(b * samples + n) * channels + c] = static_cast<float>(total[c]);
    }
  }
}

}  // namespace punet
