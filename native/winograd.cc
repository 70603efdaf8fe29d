// F(4x4, 3x3) Winograd convolutions (Lavin & Gray 2016) on NHWC tensors: see winograd.h.
//
// For a 6x6 input tile d and a 3x3 filter g, the 4x4 output tile is  A' [(G g G') . (B' d B)] A.
// Backward-data is the forward convolution of dy with the filter flipped and its channels swapped;
// backward-weights is that formula's gradient with respect to g, summed over tiles:
//   dw = G' [ sum over tiles of (B' d B) . (A dy A') ] G,
// where the sum over tiles (for every pair of channels) is again 36 matrix products.
//
// This file is compiled twice (binding.gyp): with PUNET_WINOGRAD_AVX512, for x86-64-v4 with
// 16-float vectors (namespace punet::avx512); without, with 8-float vectors and loops
// multi-versioned for AVX2 and the baseline (punet::portable). winograd_dispatch.cc picks one.
#include "winograd_variants.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "oneapi/dnnl/dnnl.h"

#ifdef PUNET_WINOGRAD_AVX512
#define PUNET_WINOGRAD_VARIANT avx512
#else
#define PUNET_WINOGRAD_VARIANT portable
#endif

namespace punet {
namespace PUNET_WINOGRAD_VARIANT {
namespace {

// A block of channels at a time, in GCC's vector extension. AVX-512: 16, one register (the LIDC
// step 2.5% faster than with 8). Elsewhere 8: one AVX register where the CPU has AVX, two SSE
// registers otherwise, and each loop over tiles compiled for AVX-512, AVX2 + FMA and the x86-64
// baseline, the best the CPU has chosen when the addon loads. Every helper is inlined into them.
#ifdef PUNET_WINOGRAD_AVX512
constexpr long kLanes = 16;
#define MULTIVERSION
#else
constexpr long kLanes = 8;
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
typedef float vf __attribute__((vector_size(kLanes * sizeof(float))));
#define INLINE static inline __attribute__((always_inline))

// A block of kLanes channels, or (FULL = false) the k < kLanes left at the end of a channel vector: full
// blocks compile to single vector moves, with no test per load.
template <bool FULL>
INLINE vf load(const float* p, long k) {
  vf v = {};
  if constexpr (FULL) std::memcpy(&v, p, sizeof(v));
  else for (long l = 0; l < k; l++) v[l] = p[l];
  return v;
}
template <bool FULL>
INLINE void store(float* p, vf v, long k) {
  if constexpr (FULL) std::memcpy(p, &v, sizeof(v));
  else for (long l = 0; l < k; l++) p[l] = v[l];
}

// The 1-D transforms. B' (6x6) takes an input row to the Winograd domain.
INLINE void inputRow(const vf d[6], vf r[6]) {
  r[0] = 4.f * d[0] - 5.f * d[2] + d[4];
  r[1] = -4.f * (d[1] + d[2]) + d[3] + d[4];
  r[2] = 4.f * (d[1] - d[2]) - d[3] + d[4];
  r[3] = 2.f * (d[3] - d[1]) - d[2] + d[4];
  r[4] = 2.f * (d[1] - d[3]) - d[2] + d[4];
  r[5] = 4.f * d[1] - 5.f * d[3] + d[5];
}
// A' (4x6) takes a product row back to 4 outputs.
INLINE void outputRow(const vf m[6], vf y[4]) {
  const vf a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
  y[0] = m[0] + a + c;
  y[1] = b + 2.f * d;
  y[2] = a + 4.f * c;
  y[3] = b + 8.f * d + m[5];
}
// G (6x3) takes a filter row to the Winograd domain.
INLINE void filterRow(const vf g[3], vf u[6]) {
  const vf even = g[0] + g[2];
  u[0] = g[0] / 4.f;
  u[1] = -(even + g[1]) / 6.f;
  u[2] = -(even - g[1]) / 6.f;
  u[3] = g[0] / 24.f + g[1] / 12.f + g[2] / 6.f;
  u[4] = g[0] / 24.f - g[1] / 12.f + g[2] / 6.f;
  u[5] = g[2];
}
// A (6x4): an output-gradient row to the Winograd domain (the transpose of outputRow).
INLINE void gradientRow(const vf m[4], vf e[6]) {
  e[0] = m[0];
  e[1] = m[0] + m[1] + m[2] + m[3];
  e[2] = m[0] - m[1] + m[2] - m[3];
  e[3] = m[0] + 2.f * m[1] + 4.f * m[2] + 8.f * m[3];
  e[4] = m[0] - 2.f * m[1] + 4.f * m[2] - 8.f * m[3];
  e[5] = m[3];
}
// G' (3x6): a Winograd-domain filter gradient row back to 3 taps (the transpose of filterRow).
INLINE void filterGradientRow(const vf s[6], vf h[3]) {
  h[0] = s[0] / 4.f - (s[1] + s[2]) / 6.f + (s[3] + s[4]) / 24.f;
  h[1] = (s[2] - s[1]) / 6.f + (s[3] - s[4]) / 12.f;
  h[2] = (s[3] + s[4] - s[1] - s[2]) / 6.f + s[5];
}

// Applies a 1-D transform along both axes of a tile: rows of `in` are IN x IN, result OUT x OUT.
// Fully unrolled, so the tile lives in registers and the indices are constants.
template <int IN, int OUT, void (*ROW)(const vf*, vf*)>
INLINE void transform2d(const vf in[IN][IN], vf out[OUT][OUT]) {
  vf column[IN], mid[OUT][IN], row[OUT];
#pragma GCC unroll 8
  for (int j = 0; j < IN; j++) {
#pragma GCC unroll 8
    for (int i = 0; i < IN; i++) column[i] = in[i][j];
    ROW(column, row);
#pragma GCC unroll 8
    for (int i = 0; i < OUT; i++) mid[i][j] = row[i];
  }
#pragma GCC unroll 8
  for (int i = 0; i < OUT; i++) ROW(mid[i], out[i]);
}

// Loads an R x R tile of channel blocks: element (i, j) at at[i][j] + offset; MASKED, zero
// where the mask's element (at mask[i][j] + offset) is not positive (a ReLU's output: the
// pre-activation gradient, read without being written out).
template <int R, bool FULL, bool MASKED>
INLINE void loadTile(const float* const at[R][R], const float* const mask[R][R], long offset, long k, vf tile[R][R]) {
#pragma GCC unroll 8
  for (int i = 0; i < R; i++)
#pragma GCC unroll 8
    for (int j = 0; j < R; j++) {
      const vf value = load<FULL>(at[i][j] + offset, k);
      if constexpr (MASKED) tile[i][j] = load<FULL>(mask[i][j] + offset, k) > 0 ? value : vf{};
      else tile[i][j] = value;
    }
}
// Loads or stores a 6x6 tile whose 36 points lie `stride` floats apart from `p`.
template <bool FULL>
INLINE void loadPoints(const float* p, long stride, long k, vf tile[6][6]) {
#pragma GCC unroll 8
  for (int i = 0; i < 6; i++)
#pragma GCC unroll 8
    for (int j = 0; j < 6; j++) tile[i][j] = load<FULL>(p + (i * 6 + j) * stride, k);
}
template <bool FULL>
INLINE void storePoints(float* p, long stride, long k, const vf tile[6][6]) {
#pragma GCC unroll 8
  for (int i = 0; i < 6; i++)
#pragma GCC unroll 8
    for (int j = 0; j < 6; j++) store<FULL>(p + (i * 6 + j) * stride, tile[i][j], k);
}

constexpr long kTile = 4, kInputTile = 6, kPoints = 36;

// Tiles of 4x4 outputs, numbered image by image, row by row.
struct Tiling {
  long rows, cols, count;
  explicit Tiling(const WinogradShape& s) : rows((s.oh + 3) / 4), cols((s.ow + 3) / 4), count(s.n * rows * cols) {}
  void locate(long t, long& image, long& y0, long& x0) const {
    image = t / (rows * cols);
    const long r = t % (rows * cols);
    y0 = r / cols * kTile;
    x0 = r % cols * kTile;
  }
};

// Blocks of 128 tiles (PUNET_WINOGRAD_TILES, read once, sets it for tuning), fewer where that
// leaves a thread without a block. The count is the rows of each of a block's 36 matrix products:
// measured on the LIDC shapes (AVX-512, 2 threads), 128 beat blocks sized by bytes (1 MiB of
// operands per thread: 227 tiles at 32 channels down to 22 at 320) by 3-16%, fewer rows starving
// the sgemm and more spilling the operands out of L2.
long tilesPerBlock(long tiles, int threads) {
  static const long wanted = std::getenv("PUNET_WINOGRAD_TILES") ? std::max(1L, std::atol(std::getenv("PUNET_WINOGRAD_TILES"))) : 128;
  return std::max(1L, std::min(wanted, (tiles + threads - 1) / threads));
}

// Work buffers, kept between calls: one set per thread, and shared ones.
struct Buffers {
  std::vector<float> a, b, sum;
  std::vector<float> blockBias;   // a block's bias-gradient sums, in float
  std::vector<double> biasTotal;  // the thread's, over its blocks
};
struct Work {
  std::vector<Buffers> threads;
  std::vector<float> zeros, flipped, filter;
  std::vector<float> allInput, allGradient, filterSums;  // backward-weights by points
};
// A function's static, not a global: the AVX-512 copy of this file must run no code (a global's
// constructor at load time) on a CPU without AVX-512.
Work& work() {
  static Work w;
  return w;
}

Buffers& buffersOf(int thread) { return work().threads[thread]; }
void prepareBuffers(int threads, long zeroFloats) {
  Work& w = work();
  if (static_cast<int>(w.threads.size()) < threads) w.threads.resize(threads);
  if (static_cast<long>(w.zeros.size()) < zeroFloats) w.zeros.assign(zeroFloats, 0.f);
}
float* sized(std::vector<float>& v, size_t floats) {
  if (v.size() < floats) v.resize(floats);
  return v.data();
}

// One block of output channels of input channel c: u[36][C][O] = G g G'.
template <bool FULL>
INLINE void filterBlock(const float* w, long C, long O, long c, long o0, long k, float* u) {
  vf g[3][3], t[6][6];
#pragma GCC unroll 4
  for (int i = 0; i < 3; i++)
#pragma GCC unroll 4
    for (int j = 0; j < 3; j++) g[i][j] = load<FULL>(w + ((i * 3 + j) * C + c) * O + o0, k);
  transform2d<3, 6, filterRow>(g, t);
  storePoints<FULL>(u + c * O + o0, C * O, k, t);
}

// u[36][C][O] = G g G' for every (input, output) channel pair of an HWIO filter w[3][3][C][O].
MULTIVERSION void transformFilter(const float* w, long C, long O, float* u) {
#pragma omp parallel for schedule(static)
  for (long c = 0; c < C; c++) {
    long o0 = 0;
    for (; o0 + kLanes <= O; o0 += kLanes) filterBlock<true>(w, C, O, c, o0, kLanes, u);
    if (o0 < O) filterBlock<false>(w, C, O, c, o0, O - o0, u);
  }
}

// The pixels of a tile's 6x6 input window (the zero vector outside the image).
INLINE void inputWindow(const WinogradShape& s, const float* x, const float* zero, long image, long y0, long x0, const float* pixel[6][6]) {
  for (int i = 0; i < 6; i++) {
    const long y = y0 - s.padTop + i;
    for (int j = 0; j < 6; j++) {
      const long xx = x0 - s.padLeft + j;
      const bool inside = y >= 0 && y < s.h && xx >= 0 && xx < s.w;
      pixel[i][j] = inside ? x + ((image * s.h + y) * s.w + xx) * s.c : zero;
    }
  }
}

// One channel block of an R x R tile of pixels (masked as loadTile says) taken to the 36
// Winograd-domain points, stored `channels` floats apart from `points` (B' d B for an input tile,
// A g A' for a gradient tile); SUM adds the tile's pixels into sum[c0..] (a bias gradient).
template <int R, void (*ROW)(const vf*, vf*), bool FULL, bool MASKED, bool SUM>
INLINE void tileToPoints(const float* const pixel[R][R], const float* const mask[R][R], long c0, long k, long channels, float* points,
                         float* sum) {
  vf d[R][R], r[6][6];
  loadTile<R, FULL, MASKED>(pixel, mask, c0, k, d);
  if constexpr (SUM) {
    vf total = load<FULL>(sum + c0, k);
#pragma GCC unroll 8
    for (int i = 0; i < R; i++)
#pragma GCC unroll 8
      for (int j = 0; j < R; j++) total += d[i][j];
    store<FULL>(sum + c0, total, k);
  }
  transform2d<R, 6, ROW>(d, r);
  storePoints<FULL>(points + c0, channels, k, r);
}

// Every channel block of one tile through tileToPoints.
template <int R, void (*ROW)(const vf*, vf*), bool MASKED, bool SUM>
INLINE void tileChannels(const float* const pixel[R][R], const float* const mask[R][R], long channels, float* points, float* sum) {
  long c0 = 0;
  for (; c0 + kLanes <= channels; c0 += kLanes) tileToPoints<R, ROW, true, MASKED, SUM>(pixel, mask, c0, kLanes, channels, points, sum);
  if (c0 < channels) tileToPoints<R, ROW, false, MASKED, SUM>(pixel, mask, c0, channels - c0, channels, points, sum);
}

// v[block][36][C] = B' d B for tiles [first, first + count) of x (zero outside the image; and
// where mask, if not null, is not positive).
template <bool MASKED>
INLINE void transformInputWith(const WinogradShape& s, const Tiling& tiling, const float* x, const float* mask, long first, long count, float* v) {
  const float* zero = work().zeros.data();
  for (long t = 0; t < count; t++) {
    long image, y0, x0;
    tiling.locate(first + t, image, y0, x0);
    const float* pixel[6][6];
    const float* maskPixel[6][6];
    inputWindow(s, x, zero, image, y0, x0, pixel);
    if constexpr (MASKED) inputWindow(s, mask, zero, image, y0, x0, maskPixel);
    tileChannels<6, inputRow, MASKED, false>(pixel, maskPixel, s.c, v + t * kPoints * s.c, nullptr);
  }
}

MULTIVERSION void transformInput(const WinogradShape& s, const Tiling& tiling, const float* x, const float* mask, long first, long count, float* v) {
  if (mask) transformInputWith<true>(s, tiling, x, mask, first, count, v);
  else transformInputWith<false>(s, tiling, x, nullptr, first, count, v);
}

template <int ACTIVATION>
INLINE vf activateLanes(vf value) {
  if constexpr (ACTIVATION == kActivationRelu) {
    return value > 0 ? value : vf{};
  } else if constexpr (ACTIVATION == kActivationElu) {
    for (int l = 0; l < kLanes; l++) value[l] = punet::activate<kActivationElu>(value[l]);
  }
  return value;
}

// One channel block of a tile's 4x4 outputs, act(A' m A + bias), stored at `at` (the tile's first
// pixel, rows `rowStride` floats apart); only `rows` x `cols` of them where the image ends.
template <bool FULL, int ACTIVATION>
INLINE void outputBlock(const float* m, long o0, long k, long O, const float* bias, float* at, long rowStride, long rows, long cols) {
  vf in[6][6], out[4][4];
  loadPoints<FULL>(m + o0, O, k, in);
  transform2d<6, 4, outputRow>(in, out);
  const vf b = bias ? load<FULL>(bias + o0, k) : vf{};
  if (rows == kTile && cols == kTile) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++) store<FULL>(at + i * rowStride + j * O + o0, activateLanes<ACTIVATION>(out[i][j] + b), k);
    return;
  }
  for (long i = 0; i < rows; i++)
    for (long j = 0; j < cols; j++) store<FULL>(at + i * rowStride + j * O + o0, activateLanes<ACTIVATION>(out[i][j] + b), k);
}

// y = act(A' m A + bias) for tiles [first, first + count), written where they fall inside y.
template <int ACTIVATION>
INLINE void transformOutputWith(const WinogradShape& s, const Tiling& tiling, const float* m, long first, long count, const float* bias, float* y) {
  const long O = s.o, rowStride = s.ow * O;
  for (long t = 0; t < count; t++) {
    long image, y0, x0;
    tiling.locate(first + t, image, y0, x0);
    const long rows = std::min(kTile, s.oh - y0), cols = std::min(kTile, s.ow - x0);
    float* at = y + ((image * s.oh + y0) * s.ow + x0) * O;
    const float* in = m + t * kPoints * O;
    long o0 = 0;
    for (; o0 + kLanes <= O; o0 += kLanes) outputBlock<true, ACTIVATION>(in, o0, kLanes, O, bias, at, rowStride, rows, cols);
    if (o0 < O) outputBlock<false, ACTIVATION>(in, o0, O - o0, O, bias, at, rowStride, rows, cols);
  }
}

MULTIVERSION void transformOutput(const WinogradShape& s, const Tiling& tiling, const float* m, long first, long count, const float* bias,
                                  int activation, float* y) {
  if (activation == kActivationRelu) transformOutputWith<kActivationRelu>(s, tiling, m, first, count, bias, y);
  else if (activation == kActivationElu) transformOutputWith<kActivationElu>(s, tiling, m, first, count, bias, y);
  else transformOutputWith<kActivationLinear>(s, tiling, m, first, count, bias, y);
}

// The pixels of a 4x4 output tile (the zero vector outside the image).
INLINE void outputWindow(const WinogradShape& s, const float* y, const float* zero, long image, long y0, long x0, const float* pixel[4][4]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      const bool inside = y0 + i < s.oh && x0 + j < s.ow;
      pixel[i][j] = inside ? y + ((image * s.oh + y0 + i) * s.ow + x0 + j) * s.o : zero;
    }
}

// e[block][36][O] = A g A' for the 4x4 output-gradient tiles [first, first + count) of dy (zero
// outside; and where mask, if not null, is not positive); with SUM, the tiles' pixels are added
// into sum[O] as well.
template <bool MASKED, bool SUM>
INLINE void transformGradientWith(const WinogradShape& s, const Tiling& tiling, const float* dy, const float* mask, long first, long count, float* e,
                                  float* sum) {
  const float* zero = work().zeros.data();
  for (long t = 0; t < count; t++) {
    long image, y0, x0;
    tiling.locate(first + t, image, y0, x0);
    const float* pixel[4][4];
    const float* maskPixel[4][4];
    outputWindow(s, dy, zero, image, y0, x0, pixel);
    if constexpr (MASKED) outputWindow(s, mask, zero, image, y0, x0, maskPixel);
    tileChannels<4, gradientRow, MASKED, SUM>(pixel, maskPixel, s.o, e + t * kPoints * s.o, sum);
  }
}

MULTIVERSION void transformGradient(const WinogradShape& s, const Tiling& tiling, const float* dy, const float* mask, long first, long count, float* e,
                                    float* sum) {
  if (mask && sum) transformGradientWith<true, true>(s, tiling, dy, mask, first, count, e, sum);
  else if (mask) transformGradientWith<true, false>(s, tiling, dy, mask, first, count, e, nullptr);
  else if (sum) transformGradientWith<false, true>(s, tiling, dy, nullptr, first, count, e, sum);
  else transformGradientWith<false, false>(s, tiling, dy, nullptr, first, count, e, nullptr);
}

template <bool FULL>
INLINE void filterGradientBlock(const float* sum, long C, long O, long c, long o0, long k, float* dw) {
  vf in[6][6], out[3][3];
  loadPoints<FULL>(sum + c * O + o0, C * O, k, in);
  transform2d<6, 3, filterGradientRow>(in, out);
#pragma GCC unroll 4
  for (int i = 0; i < 3; i++)
#pragma GCC unroll 4
    for (int j = 0; j < 3; j++) store<FULL>(dw + ((i * 3 + j) * C + c) * O + o0, out[i][j], k);
}

// dw[3][3][C][O] = G' s G for the summed Winograd-domain products s[36][C][O].
MULTIVERSION void transformFilterGradient(const float* sum, long C, long O, float* dw) {
#pragma omp parallel for schedule(static)
  for (long c = 0; c < C; c++) {
    long o0 = 0;
    for (; o0 + kLanes <= O; o0 += kLanes) filterGradientBlock<true>(sum, C, O, c, o0, kLanes, dw);
    if (o0 < O) filterGradientBlock<false>(sum, C, O, c, o0, O - o0, dw);
  }
}

// Row-major sgemm on one thread (called inside the parallel loop over blocks).
void gemm(char transA, long M, long N, long K, const float* a, long lda, const float* b, long ldb, float beta, float* c, long ldc) {
  dnnl_sgemm(transA, 'N', M, N, K, 1.f, a, lda, b, ldb, beta, c, ldc);
}

// The convolution proper, with the filter already in the Winograd domain (u[36][C][O]).
void correlate(const WinogradShape& s, const float* x, const float* mask, const float* u, const float* bias, int activation, float* y) {
  const Tiling tiling(s);
  const int threads = omp_get_max_threads();
  const long block = tilesPerBlock(tiling.count, threads);
  const long blocks = (tiling.count + block - 1) / block;
  prepareBuffers(threads, s.c);
#pragma omp parallel for schedule(dynamic, 1)
  for (long b = 0; b < blocks; b++) {
    Buffers& mine = buffersOf(omp_get_thread_num());
    const long first = b * block, count = std::min(block, tiling.count - first);
    float* v = sized(mine.a, kPoints * block * s.c);
    float* m = sized(mine.b, kPoints * block * s.o);
    transformInput(s, tiling, x, mask, first, count, v);
    for (long p = 0; p < kPoints; p++) gemm('N', count, s.o, s.c, v + p * s.c, kPoints * s.c, u + p * s.c * s.o, s.o, 0.f, m + p * s.o, kPoints * s.o);
    transformOutput(s, tiling, m, first, count, bias, activation, y);
  }
}

}  // namespace

void winogradForward(const WinogradShape& s, const float* x, const float* w, const float* bias, int activation, float* y) {
  float* u = sized(work().filter, kPoints * s.c * s.o);
  transformFilter(w, s.c, s.o, u);
  correlate(s, x, nullptr, u, bias, activation, y);
}

void winogradBackwardData(const WinogradShape& s, const float* dy, const float* mask, const float* w, float* dx) {
  // dx[y][x][c] = sum over taps and o of dy[y + padTop - i][x + padLeft - j][o] w[i][j][c][o]:
  // a correlation of dy with w[2 - i][2 - j][o][c], padded by 2 - padTop and 2 - padLeft.
  const long C = s.c, O = s.o;
  float* f = sized(work().flipped, 9 * C * O);
#pragma omp parallel for collapse(2) schedule(static)
  for (long i = 0; i < 9; i++)
    for (long c = 0; c < C; c++)
      for (long o = 0; o < O; o++) f[((8 - i) * O + o) * C + c] = w[(i * C + c) * O + o];
  const WinogradShape back{s.n, s.oh, s.ow, O, C, s.h, s.w, 2 - s.padTop, 2 - s.padLeft};
  float* u = sized(work().filter, kPoints * C * O);
  transformFilter(f, O, C, u);
  correlate(back, dy, mask, u, nullptr, kActivationLinear, dx);
}

namespace {

// Tiles [first, first + count) of x and (masked) dy transformed into v and e; with db, their dy
// summed into the thread's bias total (float over the block, then double).
void transformBlock(const WinogradShape& s, const Tiling& tiling, const float* x, const float* dy, const float* mask, long first, long count, float* v,
                    float* e, Buffers& mine, bool db) {
  transformInput(s, tiling, x, nullptr, first, count, v);
  float* blockBias = db ? sized(mine.blockBias, s.o) : nullptr;
  if (db) std::fill(blockBias, blockBias + s.o, 0.f);
  transformGradient(s, tiling, dy, mask, first, count, e, blockBias);
  if (db)
    for (long o = 0; o < s.o; o++) mine.biasTotal[o] += blockBias[o];
}

// The bias gradient from each thread's double sums, added in thread order.
void finishBias(int used, long O, float* db) {
  for (long o = 0; o < O; o++) {
    double total = 0;
    for (int t = 0; t < used; t++) total += buffersOf(t).biasTotal[o];
    db[o] = static_cast<float>(total);
  }
}

// Many tiles: threads take blocks of tiles, each summing its blocks' products into its own copy of
// the 36 sums (static: the same blocks on every run), then the copies are added in thread order,
// so a run is reproducible for a given thread count.
void backwardWeightsByBlocks(const WinogradShape& s, const Tiling& tiling, const float* x, const float* dy, const float* mask, float* dw, float* db) {
  const int threads = omp_get_max_threads();
  const long C = s.c, O = s.o, points = kPoints * C * O;
  const long block = tilesPerBlock(tiling.count, threads);
  const long blocks = (tiling.count + block - 1) / block;
  int used = 1;
#pragma omp parallel
  {
    const int me = omp_get_thread_num();
#pragma omp single
    used = omp_get_num_threads();
    Buffers& mine = buffersOf(me);
    float* sum = sized(mine.sum, points);
    std::fill(sum, sum + points, 0.f);
    if (db) mine.biasTotal.assign(O, 0.0);
#pragma omp for schedule(static, 1)
    for (long b = 0; b < blocks; b++) {
      const long first = b * block, count = std::min(block, tiling.count - first);
      float* v = sized(mine.a, kPoints * block * C);
      float* e = sized(mine.b, kPoints * block * O);
      transformBlock(s, tiling, x, dy, mask, first, count, v, e, mine, db != nullptr);
      for (long p = 0; p < kPoints; p++) gemm('T', C, O, count, v + p * C, kPoints * C, e + p * O, kPoints * O, 1.f, sum + p * C * O, O);
    }
  }
  if (db) finishBias(used, O, db);
  // Split between the threads, each element still gets the partial sums in thread order.
  float* total = buffersOf(0).sum.data();
  for (int t = 1; t < used; t++) {
    const float* part = buffersOf(t).sum.data();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < points; i++) total[i] += part[i];
  }
  transformFilterGradient(total, C, O, dw);
}

// Few tiles (the deep, small layers): every tile's transforms are kept, then threads take points,
// each point's sum over all tiles one product: no copies of the sums to add, longer products, and
// the same sums whatever the thread count.
void backwardWeightsByPoints(const WinogradShape& s, const Tiling& tiling, const float* x, const float* dy, const float* mask, float* dw, float* db) {
  const int threads = omp_get_max_threads();
  const long C = s.c, O = s.o, tiles = tiling.count;
  const long block = tilesPerBlock(tiles, threads);
  const long blocks = (tiles + block - 1) / block;
  Work& w = work();
  float* v = sized(w.allInput, kPoints * tiles * C);
  float* e = sized(w.allGradient, kPoints * tiles * O);
  float* sum = sized(w.filterSums, kPoints * C * O);
  int used = 1;
#pragma omp parallel
  {
    const int me = omp_get_thread_num();
#pragma omp single
    used = omp_get_num_threads();
    Buffers& mine = buffersOf(me);
    if (db) mine.biasTotal.assign(O, 0.0);
#pragma omp for schedule(static)
    for (long b = 0; b < blocks; b++) {
      const long first = b * block, count = std::min(block, tiles - first);
      transformBlock(s, tiling, x, dy, mask, first, count, v + first * kPoints * C, e + first * kPoints * O, mine, db != nullptr);
    }
#pragma omp for schedule(static)
    for (long p = 0; p < kPoints; p++) gemm('T', C, O, tiles, v + p * C, kPoints * C, e + p * O, kPoints * O, 0.f, sum + p * C * O, O);
  }
  if (db) finishBias(used, O, db);
  transformFilterGradient(sum, C, O, dw);
}

// The most bytes of transformed tiles backwardWeightsByPoints keeps: on 2 threads (AVX-512) it
// took the LIDC 16x16 layers' 1.8 / 1.2 ms to 1.4 / 1.0 ms, and gained nothing at 32x32 (14-19 MB).
constexpr double kByPointsBytes = 8 << 20;

}  // namespace

void winogradBackwardWeights(const WinogradShape& s, const float* x, const float* dy, const float* mask, float* dw, float* db) {
  const Tiling tiling(s);
  prepareBuffers(omp_get_max_threads(), std::max(s.c, s.o));
  const double kept = double(tiling.count) * kPoints * (s.c + s.o) * sizeof(float);
  if (kept <= kByPointsBytes) backwardWeightsByPoints(s, tiling, x, dy, mask, dw, db);
  else backwardWeightsByBlocks(s, tiling, x, dy, mask, dw, db);
}

size_t winogradBufferBytes() {
  const Work& w = work();
  size_t floats = w.zeros.size() + w.flipped.size() + w.filter.size() + w.allInput.size() + w.allGradient.size() + w.filterSums.size();
  for (const Buffers& b : w.threads) floats += b.a.size() + b.b.size() + b.sum.size() + b.blockBias.size() + 2 * b.biasTotal.size();
  return floats * sizeof(float);
}

}  // namespace PUNET_WINOGRAD_VARIANT
}  // namespace punet
