// 1x1 convolutions as matrix products (pointwise.h). The pixels are cut into chunks small enough
// that a chunk's operands stay in cache, and threads (OpenMP, the caller's setting) take whole
// chunks: the forward's bias and activation run on a chunk right after its product, and
// backward-weights sums each thread's chunks into its own partial product.
#include "pointwise.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "activation.h"
#include "oneapi/dnnl/dnnl.h"

namespace punet {
namespace {

// Pixels per chunk: about 256 KiB of one chunk's input and output rows together.
long chunkRows(const PointwiseShape& s) { return std::max(16L, (1L << 16) / (s.c + s.o)); }

// Row-major sgemm on one thread (inside the parallel loops): c = op(a) b + beta c.
void gemm(char transA, char transB, long m, long n, long k, const float* a, long lda, const float* b, long ldb, float beta, float* c, long ldc) {
  dnnl_sgemm(transA, transB, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}

// dy's rows [first, first + rows) as the backward passes read them: masked into `buffer` where a
// mask is given, else in place; with `sum`, their column sums are added into it.
const float* gradientRows(const float* dy, const float* mask, long first, long rows, long o, std::vector<float>& buffer, float* sum) {
  const float* in = dy + first * o;
  if (mask) {
    const float* keep = mask + first * o;
    if (static_cast<long>(buffer.size()) < rows * o) buffer.resize(rows * o);
    // Both loaded before the select, so it vectorises (a conditional load does not).
    for (long i = 0; i < rows * o; i++) {
      const float value = in[i], gate = keep[i];
      buffer[i] = gate > 0.f ? value : 0.f;
    }
    in = buffer.data();
  }
  if (sum)
    for (long r = 0; r < rows; r++)
      for (long j = 0; j < o; j++) sum[j] += in[r * o + j];
  return in;
}

template <int ACTIVATION>
void biasAndActivate(float* y, long rows, long o, const float* bias) {
  for (long r = 0; r < rows; r++, y += o)
    for (long j = 0; j < o; j++) y[j] = activate<ACTIVATION>(y[j] + (bias ? bias[j] : 0.f));
}

}  // namespace

void pointwiseForward(const PointwiseShape& s, const float* x, const float* w, const float* bias, int activation, float* y) {
  const long chunk = chunkRows(s), chunks = (s.pixels + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < chunks; i++) {
    const long first = i * chunk, rows = std::min(chunk, s.pixels - first);
    float* out = y + first * s.o;
    gemm('N', 'N', rows, s.o, s.c, x + first * s.c, s.c, w, s.o, 0.f, out, s.o);
    if (activation == kActivationRelu) biasAndActivate<kActivationRelu>(out, rows, s.o, bias);
    else if (activation == kActivationElu) biasAndActivate<kActivationElu>(out, rows, s.o, bias);
    else if (bias) biasAndActivate<kActivationLinear>(out, rows, s.o, bias);
  }
}

void pointwiseBackwardData(const PointwiseShape& s, const float* dy, const float* mask, const float* w, float* dx) {
  const long chunk = chunkRows(s), chunks = (s.pixels + chunk - 1) / chunk;
#pragma omp parallel
  {
    std::vector<float> buffer;
#pragma omp for schedule(static)
    for (long i = 0; i < chunks; i++) {
      const long first = i * chunk, rows = std::min(chunk, s.pixels - first);
      const float* g = gradientRows(dy, mask, first, rows, s.o, buffer, nullptr);
      gemm('N', 'T', rows, s.c, s.o, g, s.o, w, s.o, 0.f, dx + first * s.c, s.c);
    }
  }
}

void pointwiseBackwardWeights(const PointwiseShape& s, const float* x, const float* dy, const float* mask, float* dw, float* db) {
  const long chunk = chunkRows(s), chunks = (s.pixels + chunk - 1) / chunk, size = s.c * s.o;
  const int threads = omp_get_max_threads();
  // Thread 0 sums into dw itself; the others into their own partial sums, added in thread order
  // afterwards (static schedule: the same chunks on every run), so a run is reproducible for a
  // given thread count.
  std::vector<float> partial(static_cast<size_t>(std::max(0, threads - 1)) * size);
  // The bias gradient likewise: float sums over a chunk, added up in double per thread.
  std::vector<double> biasTotal(db ? static_cast<size_t>(threads) * s.o : 0, 0.0);
  int used = 1;
#pragma omp parallel
  {
    const int me = omp_get_thread_num();
#pragma omp single
    used = omp_get_num_threads();
    float* sum = me == 0 ? dw : partial.data() + (me - 1) * size;
    std::fill(sum, sum + size, 0.f);
    std::vector<float> buffer, chunkBias(db ? s.o : 0);
#pragma omp for schedule(static)
    for (long i = 0; i < chunks; i++) {
      const long first = i * chunk, rows = std::min(chunk, s.pixels - first);
      std::fill(chunkBias.begin(), chunkBias.end(), 0.f);
      const float* g = gradientRows(dy, mask, first, rows, s.o, buffer, db ? chunkBias.data() : nullptr);
      for (long j = 0; db && j < s.o; j++) biasTotal[me * s.o + j] += chunkBias[j];
      gemm('T', 'N', s.c, s.o, rows, x + first * s.c, s.c, g, s.o, 1.f, sum, s.o);
    }
  }
  for (int t = 1; t < used; t++) {
    const float* part = partial.data() + (t - 1) * size;
    for (long i = 0; i < size; i++) dw[i] += part[i];
  }
  for (long j = 0; db && j < s.o; j++) {
    double total = 0;
    for (int t = 0; t < used; t++) total += biasTotal[t * s.o + j];
    db[j] = static_cast<float>(total);
  }
}

}  // namespace punet
