/**
 * Naive loop references for 2-D convolution gradients (NHWC, filter [kh, kw, Ci, Co]), written
 * straight from the definition y[n,oy,ox,o] = sum x[n, oy*s + i - top, ox*s + j - left, c] * w[i,j,c,o].
 * They are independent of every tfjs backend.
 */
export interface ConvGeometry {
  n: number; h: number; w: number; ci: number;
  kh: number; kw: number; co: number;
  stride: number;
  ho: number; wo: number; top: number; left: number;
}

/** Output size and leading padding as TensorFlow defines them for 'same' / 'valid'. */
export function geometry(
  x: [number, number, number, number], f: [number, number, number, number], stride: number, pad: 'same' | 'valid',
): ConvGeometry {
  const [n, h, w, ci] = x;
  const [kh, kw, , co] = f;
  if (pad === 'valid') {
    return { n, h, w, ci, kh, kw, co, stride, ho: Math.ceil((h - kh + 1) / stride), wo: Math.ceil((w - kw + 1) / stride), top: 0, left: 0 };
  }
  const ho = Math.ceil(h / stride);
  const wo = Math.ceil(w / stride);
  const padH = Math.max(0, (ho - 1) * stride + kh - h);
  const padW = Math.max(0, (wo - 1) * stride + kw - w);
  return { n, h, w, ci, kh, kw, co, stride, ho, wo, top: Math.floor(padH / 2), left: Math.floor(padW / 2) };
}

/**
 * Visits every (input element, filter element, output element) triple the convolution multiplies
 * together, as flat NHWC / HWIO / NHWC indices: forward pass and both gradients are sums over it.
 */
function forEachTap(g: ConvGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.ho; oy++)
      for (let ox = 0; ox < g.wo; ox++)
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            const y = oy * g.stride + i - g.top;
            const xx = ox * g.stride + j - g.left;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) continue;
            for (let c = 0; c < g.ci; c++)
              for (let o = 0; o < g.co; o++) {
                visit(((b * g.h + y) * g.w + xx) * g.ci + c, ((i * g.kw + j) * g.ci + c) * g.co + o, ((b * g.ho + oy) * g.wo + ox) * g.co + o);
              }
          }
}

export function naiveFilterGrad(g: ConvGeometry, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(g.kh * g.kw * g.ci * g.co);
  forEachTap(g, (xi, wi, yi) => (dw[wi] += x[xi]! * dy[yi]!));
  return dw;
}

export function naiveInputGrad(g: ConvGeometry, w: Float32Array, dy: Float32Array): Float64Array {
  const dx = new Float64Array(g.n * g.h * g.w * g.ci);
  forEachTap(g, (xi, wi, yi) => (dx[xi] += w[wi]! * dy[yi]!));
  return dx;
}

export function naiveForward(g: ConvGeometry, x: Float32Array, w: Float32Array): Float64Array {
  const y = new Float64Array(g.n * g.ho * g.wo * g.co);
  forEachTap(g, (xi, wi, yi) => (y[yi] += x[xi]! * w[wi]!));
  return y;
}
