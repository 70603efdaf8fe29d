// Element-wise passes that wasm runs on one thread, on every thread instead:
// - Add, Sub and Mul of two same-shape tensors: the gradient sums of backpropagation (a tensor used
//   twice gets both gradients added) on activations of up to 4M floats;
// - the ReLU + bias gradient of a conv's backward pass (where the conv kernels cannot mask dy);
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

namespace {

// dz = dy * step(y) over `rows` rows, each row's dz added into acc. Both operands are loaded
// before the select, so the compiler can vectorise it (a conditional load it cannot).
void reluGradRows(const float* __restrict dy, const float* __restrict y, float* __restrict dz, float* __restrict acc, long rows, long channels) {
  for (long r = 0; r < rows; r++, dy += channels, y += channels, dz += channels) {
    for (long c = 0; c < channels; c++) {
      const float d = dy[c], v = y[c];
      const float g = v > 0.f ? d : 0.f;
      dz[c] = g;
      acc[c] += g;
    }
  }
}

}  // namespace

void reluGradBias(long rows, long channels, const float* dy, const float* y, float* dz, float* db) {
  const int threads = omp_get_max_threads();
  std::vector<double> partial(static_cast<size_t>(threads) * channels, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const long begin = rows * t / n, end = rows * (t + 1) / n;
    double* sum = partial.data() + static_cast<size_t>(t) * channels;
    std::vector<float> block(channels);
    for (long r0 = begin; r0 < end; r0 += 64) {
      std::fill(block.begin(), block.end(), 0.f);
      const long offset = r0 * channels;
      reluGradRows(dy + offset, y + offset, dz + offset, block.data(), std::min(end, r0 + 64) - r0, channels);
      for (long c = 0; c < channels; c++) sum[c] += block[c];
    }
  }
  for (long c = 0; c < channels; c++) {
    double total = 0;
    for (int t = 0; t < threads; t++) total += partial[static_cast<size_t>(t) * channels + c];
    db[c] = static_cast<float>(total);
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
