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

void pointwiseBackwardData(const PointwiseShape& s, const float* dy, const float* w, float* dx) {
  const long chunk = chunkRows(s), chunks = (s.pixels + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < chunks; i++) {
    const long first = i * chunk, rows = std::min(chunk, s.pixels - first);
    gemm('N', 'T', rows, s.c, s.o, dy + first * s.o, s.o, w, s.o, 0.f, dx + first * s.c, s.c);
  }
}

void pointwiseBackwardWeights(const PointwiseShape& s, const float* x, const float* dy, float* dw) {
  const long chunk = chunkRows(s), chunks = (s.pixels + chunk - 1) / chunk, size = s.c * s.o;
  const int threads = omp_get_max_threads();
  // Thread 0 sums into dw itself; the others into their own partial sums, added in thread order
  // afterwards (static schedule: the same chunks on every run), so a run is reproducible for a
  // given thread count.
  std::vector<float> partial(static_cast<size_t>(std::max(0, threads - 1)) * size);
  int used = 1;
#pragma omp parallel
  {
    const int me = omp_get_thread_num();
#pragma omp single
    used = omp_get_num_threads();
    float* sum = me == 0 ? dw : partial.data() + (me - 1) * size;
    std::fill(sum, sum + size, 0.f);
#pragma omp for schedule(static)
    for (long i = 0; i < chunks; i++) {
      const long first = i * chunk, rows = std::min(chunk, s.pixels - first);
      gemm('T', 'N', s.c, s.o, rows, x + first * s.c, s.c, dy + first * s.o, s.o, 1.f, sum, s.o);
    }
  }
  for (int t = 1; t < used; t++) {
    const float* part = partial.data() + (t - 1) * size;
    for (long i = 0; i < size; i++) dw[i] += part[i];
  }
}

}  // namespace punet
