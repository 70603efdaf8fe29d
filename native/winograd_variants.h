// The two compiled copies of winograd.cc (see there), each with winograd.h's functions;
// winograd_dispatch.cc defines winograd.h's own, which call one of them.
#pragma once

#include "winograd.h"

namespace punet {

#define PUNET_WINOGRAD_FUNCTIONS                                                                                            \
  void winogradForward(const WinogradShape& s, const float* x, const float* w, const float* bias, int activation, float* y); \
  void winogradBackwardData(const WinogradShape& s, const float* dy, const float* mask, const float* w, float* dx);           \
  void winogradBackwardWeights(const WinogradShape& s, const float* x, const float* dy, const float* mask, float* dw, float* db); \
  size_t winogradBufferBytes();

namespace avx512 {
PUNET_WINOGRAD_FUNCTIONS
}
namespace portable {
PUNET_WINOGRAD_FUNCTIONS
}

#undef PUNET_WINOGRAD_FUNCTIONS

}  // namespace punet
