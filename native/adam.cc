// Adam's update in one pass over the flat vectors (plugins/builtin/flat-adam.ts), on every thread,
// instead of a dozen wasm kernels each reading and writing the whole vector on one thread.
//
// Every operation is the float32 operation the tfjs kernels do, in their order (each product and
// quotient rounded: binding.gyp builds this file without fused multiply-adds), so
// the result is bit-identical to the wasm ops, whatever the thread count.
#include "adam.h"

#include <omp.h>

#include <cmath>

namespace punet {

void adamUpdate(const AdamScalars& s, size_t count, const float* __restrict gradient, const float* __restrict m, const float* __restrict v,
                const float* __restrict value, float* __restrict mOut, float* __restrict vOut, float* __restrict valueOut) {
  const long n = static_cast<long>(count);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {
    const float g = gradient[i];
    const float m1 = m[i] * s.beta1 + g * s.oneMinusBeta1;
    const float v1 = v[i] * s.beta2 + (g * g) * s.oneMinusBeta2;
    const float mHat = m1 / s.oneMinusAccBeta1, vHat = v1 / s.oneMinusAccBeta2;
    mOut[i] = m1;
    vOut[i] = v1;
    valueOut[i] = mHat / (std::sqrt(vHat) + s.epsilon) * s.negativeLearningRate + value[i];
  }
}

}  // namespace punet
