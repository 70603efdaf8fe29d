// Add, Sub and Mul of two same-shape tensors: the gradient sums of backpropagation (a tensor used
// twice gets both gradients added) on activations of up to 4M floats, which wasm runs on one
// thread. Each element is one IEEE float32 operation, so the result equals wasm's bit for bit.
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

}  // namespace punet
