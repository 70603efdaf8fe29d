// punet's own Winograd convolutions, F(4x4, 3x3): on any x86-64 CPU (oneDNN 2.6 has its own only
// for AVX-512, and it is slower there). 3x3, stride 1, no dilation, any padding; NHWC
// activations, HWIO filters.
// The transforms run on channel vectors (NHWC keeps a pixel's channels contiguous) and the 36
// element-wise products become 36 matrix products (oneDNN's sgemm), on blocks of tiles that stay
// in cache. Threads (OpenMP, the caller's setting) take whole blocks.
#pragma once

#include <cstddef>

#include "activation.h"

namespace punet {

struct WinogradShape {
  long n, h, w, c;   // input (forward, backward-weights) or input gradient (backward-data)
  long o, oh, ow;    // output channels and size
  long padTop, padLeft;
};

// y = act(conv(x, w) + bias), act an Activation (activation.h); bias may be null.
void winogradForward(const WinogradShape& s, const float* x, const float* w, const float* bias, int activation, float* y);
// The backward passes take dy, the gradient of the loss with respect to the conv's output (s
// describes the forward conv), and an optional mask shaped like dy: where the mask is not
// positive, dy counts as zero. With the ReLU's output as the mask, that is the gradient before
// the ReLU, read from dy on the fly instead of written out first.
// dx = the gradient of conv(x, w) with respect to x.
void winogradBackwardData(const WinogradShape& s, const float* dy, const float* mask, const float* w, float* dx);
// dw = the gradient of conv(x, w) with respect to w; db (if not null) = the (masked) dy summed over
// every pixel, the bias gradient.
void winogradBackwardWeights(const WinogradShape& s, const float* x, const float* dy, const float* mask, float* dw, float* db);
// Bytes held by the per-thread work buffers (they grow to the largest call and are kept).
size_t winogradBufferBytes();
// Channels per vector in the kernels that run: 16 on AVX-512 CPUs, else 8 (winograd_dispatch.cc).
int winogradLanes();
// Chooses 8 or 16 (where the CPU has AVX-512); false, changing nothing, for anything else.
bool setWinogradLanes(int lanes);

}  // namespace punet
