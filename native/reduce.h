// Row sums for reductions that oneDNN's matrix product handles badly (see reduce.cc).
#pragma once

namespace punet {

// out[o] = sum of a[o][0 .. reduced) for o < outer (a row-major [outer, reduced]).
void sumRows(const float* a, long outer, long reduced, float* out);

}  // namespace punet
