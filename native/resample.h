// Spatial resampling of NHWC float32 tensors, threaded over images and rows: TensorFlow's average
// pooling (each window divided by its pixels inside the image) and bilinear resizing, forward and
// backward. wasm runs the forward passes on one thread.
#pragma once

namespace punet {

struct PoolShape {
  long n, h, w, c;         // input
  long oh, ow;             // output
  long kh, kw, sh, sw;     // window and strides
  long padTop, padLeft;    // where the first window starts, above and left of the image
};

// y[n][oy][ox][c] = the mean of x over the window's pixels inside the image.
void avgPool(const PoolShape& s, const float* x, float* y);
// dx = avgPool's gradient given dy: each input pixel gathers dy / (window's pixels) from every
// window it lies in (no two threads write one pixel, whatever the windows' overlap).
void avgPoolGrad(const PoolShape& s, const float* dy, float* dx);

struct ResizeShape {
  long n, h, w, c;  // the smaller-or-larger source image x
  long oh, ow;      // the resized image y
  bool alignCorners, halfPixelCenters;
};

// y = x resized bilinearly to oh x ow, with tfjs's source positions (computed in double) and
// float interpolation, as its wasm kernel does.
void resizeBilinear(const ResizeShape& s, const float* x, float* y);
// dx = the gradient of resizeBilinear (without half-pixel centres: tfjs's gradient ignores them)
// given dy: each dy pixel adds its value into the four pixels it was interpolated from.
void resizeBilinearGrad(const ResizeShape& s, const float* dy, float* dx);

}  // namespace punet
