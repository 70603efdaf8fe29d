// Element-wise passes over large float32 tensors, on every thread (see elementwise.cc).
#pragma once

namespace punet {

enum BinaryOp { kBinaryAdd = 0, kBinarySub = 1, kBinaryMul = 2 };

// out[i] = a[i] op b[i] for i < n: one float32 operation each, as the wasm kernels compute it.
void binaryOp(int op, long n, const float* a, const float* b, float* out);

// The backward pass of conv + bias + ReLU after the convolution, in one read of dy and y (rows of
// `channels` floats): the pre-activation gradient dz = dy where y > 0, else 0, and the bias
// gradient db = dz summed over the rows. Each thread sums its own rows (float over blocks of 64,
// then double); the partial sums are added in thread order, so a run is reproducible for a given
// thread count.
void reluGradBias(long rows, long channels, const float* dy, const float* y, float* dz, float* db);

// out[b][n][p][c] = relu(x[b][p][c] + bias[b][n][c]) for p < pixels: a per-sample bias over
// shared features (fcomb's first layer for n samples), the same float ops as add then relu.
void tiledBiasRelu(long batch, long samples, long pixels, long channels, const float* x, const float* bias, float* out);

// tiledBiasRelu's gradient from dy and its output y (both [batch][samples][pixels][channels]):
// with dz = dy where y > 0, else 0, dx[b][p][c] = dz summed over the samples and
// dbias[b][n][c] = dz summed over the pixels.
void tiledBiasReluGrad(long batch, long samples, long pixels, long channels, const float* dy, const float* y, float* dx, float* dbias);

}  // namespace punet
