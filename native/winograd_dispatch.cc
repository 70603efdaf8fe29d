// winograd.h's functions: each calls the AVX-512 copy of the kernels where the CPU has AVX-512
// (F, BW, CD, DQ and VL: x86-64-v4, what that copy is compiled for), else the portable one.
#include <cstdlib>
#include <cstring>

#include "winograd_variants.h"

namespace punet {
namespace {

bool cpuHasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

// PUNET_WINOGRAD_LANES=8 (read once) keeps AVX-512 CPUs on the portable copy, for comparison.
int lanes = [] {
  const char* wanted = std::getenv("PUNET_WINOGRAD_LANES");
  return cpuHasAvx512() && !(wanted && std::strcmp(wanted, "8") == 0) ? 16 : 8;
}();

}  // namespace

int winogradLanes() { return lanes; }

bool setWinogradLanes(int n) {
  if (n != 8 && !(n == 16 && cpuHasAvx512())) return false;
  lanes = n;
  return true;
}

void winogradForward(const WinogradShape& s, const float* x, const float* w, const float* bias, int activation, float* y) {
  if (lanes == 16) avx512::winogradForward(s, x, w, bias, activation, y);
  else portable::winogradForward(s, x, w, bias, activation, y);
}

void winogradBackwardData(const WinogradShape& s, const float* dy, const float* mask, const float* w, float* dx) {
  if (lanes == 16) avx512::winogradBackwardData(s, dy, mask, w, dx);
  else portable::winogradBackwardData(s, dy, mask, w, dx);
}

void winogradBackwardWeights(const WinogradShape& s, const float* x, const float* dy, const float* mask, float* dw, float* db) {
  if (lanes == 16) avx512::winogradBackwardWeights(s, x, dy, mask, dw, db);
  else portable::winogradBackwardWeights(s, x, dy, mask, dw, db);
}

// (The AVX-512 copy is never entered on a CPU without it, not even to count its buffers.)
size_t winogradBufferBytes() { return (cpuHasAvx512() ? avx512::winogradBufferBytes() : 0) + portable::winogradBufferBytes(); }

}  // namespace punet
