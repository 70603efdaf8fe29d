// Average pooling and bilinear resizing on NHWC tensors (resample.h).
#include "resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace punet {
namespace {

// Where output row (or column) i samples the source, tfjs's convention: the source position in
// double, its two neighbours and the weight of the second.
struct Tap {
  long low, high;
  double frac;
};

double resizeRatio(long in, long out, bool alignCorners) {
  return alignCorners && out > 1 ? double(in - 1) / double(out - 1) : double(in) / double(out);
}

Tap tapAt(long i, double ratio, long in, bool halfPixelCenters) {
  const double at = halfPixelCenters ? ratio * (i + 0.5) - 0.5 : ratio * i;
  const double low = std::max(0.0, std::floor(at));
  return {static_cast<long>(low), std::min(in - 1, static_cast<long>(std::ceil(at))), at - low};
}

}  // namespace

void avgPool(const PoolShape& s, const float* x, float* y) {
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < s.n; b++)
    for (long oy = 0; oy < s.oh; oy++) {
      const long y0 = std::max(0L, oy * s.sh - s.padTop), y1 = std::min(s.h, oy * s.sh - s.padTop + s.kh);
      float* __restrict out = y + (b * s.oh + oy) * s.ow * s.c;
      for (long ox = 0; ox < s.ow; ox++, out += s.c) {
        const long x0 = std::max(0L, ox * s.sw - s.padLeft), x1 = std::min(s.w, ox * s.sw - s.padLeft + s.kw);
        std::fill(out, out + s.c, 0.f);
        for (long iy = y0; iy < y1; iy++)
          for (long ix = x0; ix < x1; ix++) {
            const float* __restrict in = x + ((b * s.h + iy) * s.w + ix) * s.c;
            for (long c = 0; c < s.c; c++) out[c] += in[c];
          }
        const float count = static_cast<float>((y1 - y0) * (x1 - x0));
        for (long c = 0; c < s.c; c++) out[c] /= count;
      }
    }
}

namespace {

// The window rows (or columns) [first, last) whose window holds input row i.
void windowsHolding(long i, long kernel, long stride, long pad, long outputs, long& first, long& last) {
  const long from = i + pad - kernel + 1;  // the lowest window start that still reaches i
  first = std::max(0L, from <= 0 ? 0 : (from + stride - 1) / stride);
  last = std::min(outputs, (i + pad) / stride + 1);
}

}  // namespace

void avgPoolGrad(const PoolShape& s, const float* dy, float* dx) {
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < s.n; b++)
    for (long iy = 0; iy < s.h; iy++) {
      long oy0, oy1;
      windowsHolding(iy, s.kh, s.sh, s.padTop, s.oh, oy0, oy1);
      float* __restrict out = dx + (b * s.h + iy) * s.w * s.c;
      for (long ix = 0; ix < s.w; ix++, out += s.c) {
        long ox0, ox1;
        windowsHolding(ix, s.kw, s.sw, s.padLeft, s.ow, ox0, ox1);
        std::fill(out, out + s.c, 0.f);
        for (long oy = oy0; oy < oy1; oy++) {
          const long rows = std::min(s.h, oy * s.sh - s.padTop + s.kh) - std::max(0L, oy * s.sh - s.padTop);
          for (long ox = ox0; ox < ox1; ox++) {
            const long cols = std::min(s.w, ox * s.sw - s.padLeft + s.kw) - std::max(0L, ox * s.sw - s.padLeft);
            const float count = static_cast<float>(rows * cols);
            const float* __restrict g = dy + ((b * s.oh + oy) * s.ow + ox) * s.c;
            for (long c = 0; c < s.c; c++) out[c] += g[c] / count;
          }
        }
      }
    }
}

void resizeBilinear(const ResizeShape& s, const float* x, float* y) {
  const double rowRatio = resizeRatio(s.h, s.oh, s.alignCorners), colRatio = resizeRatio(s.w, s.ow, s.alignCorners);
  std::vector<Tap> cols(s.ow);
  for (long col = 0; col < s.ow; col++) cols[col] = tapAt(col, colRatio, s.w, s.halfPixelCenters);
#pragma omp parallel for collapse(2) schedule(static)
  for (long b = 0; b < s.n; b++)
    for (long r = 0; r < s.oh; r++) {
      const Tap row = tapAt(r, rowRatio, s.h, s.halfPixelCenters);
      const float* top = x + (b * s.h + row.low) * s.w * s.c;
      const float* bottom = x + (b * s.h + row.high) * s.w * s.c;
      const float fy = static_cast<float>(row.frac);
      float* __restrict out = y + (b * s.oh + r) * s.ow * s.c;
      for (long col = 0; col < s.ow; col++, out += s.c) {
        const Tap& t = cols[col];
        const float fx = static_cast<float>(t.frac);
        const float *tl = top + t.low * s.c, *tr = top + t.high * s.c, *bl = bottom + t.low * s.c, *br = bottom + t.high * s.c;
        for (long c = 0; c < s.c; c++) {
          const float upper = tl[c] + (tr[c] - tl[c]) * fx;
          const float lower = bl[c] + (br[c] - bl[c]) * fx;
          out[c] = upper + (lower - upper) * fy;
        }
      }
    }
}

void resizeBilinearGrad(const ResizeShape& s, const float* dy, float* dx) {
  const double rowRatio = resizeRatio(s.h, s.oh, s.alignCorners), colRatio = resizeRatio(s.w, s.ow, s.alignCorners);
  // Images are independent (no two write the same dx pixel), so they run in parallel.
#pragma omp parallel for schedule(static)
  for (long b = 0; b < s.n; b++) {
    float* out = dx + b * s.h * s.w * s.c;
    std::fill(out, out + s.h * s.w * s.c, 0.f);
    const float* in = dy + b * s.oh * s.ow * s.c;
    for (long r = 0; r < s.oh; r++) {
      const Tap row = tapAt(r, rowRatio, s.h, false);
      for (long col = 0; col < s.ow; col++, in += s.c) {
        const Tap t = tapAt(col, colRatio, s.w, false);
        const float topLeft = float((1 - row.frac) * (1 - t.frac)), topRight = float((1 - row.frac) * t.frac);
        const float bottomLeft = float(row.frac * (1 - t.frac)), bottomRight = float(row.frac * t.frac);
        float* tl = out + (row.low * s.w + t.low) * s.c;
        float* tr = out + (row.low * s.w + t.high) * s.c;
        float* bl = out + (row.high * s.w + t.low) * s.c;
        float* br = out + (row.high * s.w + t.high) * s.c;
        for (long c = 0; c < s.c; c++) {
          const float g = in[c];
          tl[c] += g * topLeft;
          tr[c] += g * topRight;
          bl[c] += g * bottomLeft;
          br[c] += g * bottomRight;
        }
      }
    }
  }
}

}  // namespace punet
