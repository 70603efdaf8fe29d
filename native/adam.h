// Adam's update of one flat parameter vector, element-wise, on float32 (see adam.cc).
#pragma once

#include <cstddef>

namespace punet {

// Scalars of one step, as float32 (what tfjs's scalar tensors hold).
struct AdamScalars {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2;
  float oneMinusAccBeta1, oneMinusAccBeta2;  // 1 - beta^t
  float epsilon, negativeLearningRate;
};

// m' = beta1 m + (1 - beta1) g,  v' = beta2 v + (1 - beta2) g^2,
// value' = (m' / (1 - beta1^t)) / (sqrt(v' / (1 - beta2^t)) + epsilon) * -lr + value.
void adamUpdate(const AdamScalars& s, size_t count, const float* gradient, const float* m, const float* v, const float* value, float* mOut,
                float* vOut, float* valueOut);

}  // namespace punet
