// The activation a fused convolution applies to conv + bias, coded as the JS side passes it
// (ACTIVATIONS in runtime/backends/native-kernels.ts).
#pragma once

#include <cmath>

namespace punet {

enum Activation { kActivationLinear = 0, kActivationRelu = 1, kActivationElu = 2 };

// One value through the activation, as tfjs computes it (ELU with alpha 1).
template <int ACTIVATION>
inline float activate(float value) {
  if constexpr (ACTIVATION == kActivationRelu) return value > 0.f ? value : 0.f;
  if constexpr (ACTIVATION == kActivationElu) return value > 0.f ? value : std::expm1(value);
  return value;
}

}  // namespace punet
