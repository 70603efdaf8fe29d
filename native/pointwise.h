// 1x1 convolutions with stride 1 and no padding, as the matrix products they are: an NHWC
// activation is a [pixels, channels] matrix and an HWIO 1x1 filter a [C, O] one. oneDNN's direct
// kernels took 2-4x the time of the product itself on the LIDC combiner's 128x128x32 maps.
#pragma once

namespace punet {

struct PointwiseShape {
  long pixels, c, o;  // N * H * W, input channels, output channels
};

// y = act(x w + bias), act an Activation (activation.h); bias may be null.
void pointwiseForward(const PointwiseShape& s, const float* x, const float* w, const float* bias, int activation, float* y);
// The backward passes read dy where mask (if not null, shaped like dy) is positive and zero
// elsewhere: the gradient before a ReLU whose output the mask is (as in winograd.h).
// dx = dy w'.
void pointwiseBackwardData(const PointwiseShape& s, const float* dy, const float* mask, const float* w, float* dx);
// dw = x' dy; db (if not null) = dy summed over the pixels, the bias gradient.
void pointwiseBackwardWeights(const PointwiseShape& s, const float* x, const float* dy, const float* mask, float* dw, float* db);

}  // namespace punet
