// The vector kernels of tensorflow-ops.cc's ops, included by it once per instruction set: each inclusion sits
// inside `#pragma GCC target(...)` and a namespace of its own (SBERT_KERNELS_NS), with SBERT_KERNELS_W (floats per
// vector: 4 SSE, 8 AVX2, 16 AVX-512) defined; the op picks one by the CPU at first use. Each instruction set gets
// vectors of its own width: wider vectors (GCC's generic vectors of 16 floats on AVX2) are lowered through the
// stack, 2–4× slower. No include guard on purpose.
//
// SbertLinear's product, y = act(x · w + bias) [+ residual]: GotoBLAS's loops (Goto & van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", 2008), as BLIS names them. For each KC-deep slice of k, w's columns
// are packed into NR-wide slivers (kc × NR, contiguous) and x's rows into MR-high panels (kc × MR, for MC rows at
// a time); a register-blocked kernel then multiplies one panel by one sliver, MR × NR sums in 2·MR vector
// registers. A sliver (16 KB at AVX2's NR) stays in L1 across the panels of a block, which stay in L2. Packing
// makes both weight layouts ([in, out] and HF's [out, in]) equally fast, and costs ≈ 1/M of the multiply-adds.
// Every output element's sum runs over k in order, one KC slice after the other, whatever the thread count or
// tile: results do not depend on how the work is split. The epilogue (bias, activation, residual) runs in the
// registers of the last slice; tiles at the matrix's edges run the same kernel on padded copies, so an element's
// arithmetic does not depend on where it lies either.

namespace SBERT_KERNELS_NS {

constexpr int W = SBERT_KERNELS_W;
constexpr int MR = 6;      // rows per kernel call: 2·MR accumulators + 2 of w + 1 of x fit AVX2's 16 registers
constexpr int NR = 2 * W;  // columns per kernel call
constexpr int64_t KC = 256;
constexpr int64_t MC = 144;  // a multiple of MR

typedef float V __attribute__((vector_size(W * 4)));
typedef int32_t I __attribute__((vector_size(W * 4)));
typedef float Vu __attribute__((vector_size(W * 4), aligned(4)));

inline V LoadU(const float* p) { return *reinterpret_cast<const Vu*>(p); }
inline void StoreU(float* p, V v) { *reinterpret_cast<Vu*>(p) = v; }

// expf of x ≤ 0 (a softmax's shifted scores; tanh's exp(−2|u|)): Cephes' range reduction and polynomial (as the
// wasm backend's kernels.wat), within 2 ulp of expf on [-87.3, 0]; below that 0 (torch's exp of a masked score is 0).
inline V ExpNonPositive(V x) {
  const I under = x < -87.3f;
  // Clamped to [-87.3, 0] first: every lane's conversion to int below is then in range (a masked score, or a lane
  // past the keys, would not be), and the lanes under it are set to 0 at the end.
  x = under ? V{} - 87.3f : x;
  x = x > 0.0f ? V{} : x;
  const V t = x * 1.44269504088896341f + 0.5f;
  const I ti = __builtin_convertvector(t, I);  // toward zero
  const V tf = __builtin_convertvector(ti, V);
  const V fx = tf + __builtin_convertvector((tf > t) ? -1 : 0, V);  // floor
  const V r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
  V y = r * 1.9875691500e-4f + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const I e = (__builtin_convertvector(fx, I) + 127) << 23;
  return under ? V{} : y * __builtin_bit_cast(V, e);
}

// The W lanes' sum in float64, in lane order. v by value: indexing a vector variable puts it in memory, and a loop
// adding to it would then go through memory at every step.
inline double LaneSum(V v) {
  float lanes[W];
  std::memcpy(lanes, &v, sizeof lanes);
  double sum = 0.0;
  for (float l : lanes) sum += l;
  return sum;
}

// ---- SbertLinear ----

// The first (Lo) or second (Hi) halves of a and b, lane by lane: a0 b0 a1 b1 ….
template <size_t... L>
inline V InterleaveLo(V a, V b, std::index_sequence<L...>) {
  return __builtin_shufflevector(a, b, (L % 2 ? W + L / 2 : L / 2)...);
}
template <size_t... L>
inline V InterleaveHi(V a, V b, std::index_sequence<L...>) {
  return __builtin_shufflevector(a, b, (L % 2 ? W + W / 2 + L / 2 : W / 2 + L / 2)...);
}

// r (W rows of W) transposed in place: log2(W) rounds of interleaving row i with row i + W/2 (a perfect shuffle of
// the rows' lanes each round).
inline void Transpose(V (&r)[W]) {
  for (int round = 1; round < W; round *= 2) {
    V t[W];
    for (int i = 0; i < W / 2; ++i) {
      t[2 * i] = InterleaveLo(r[i], r[i + W / 2], std::make_index_sequence<W>{});
      t[2 * i + 1] = InterleaveHi(r[i], r[i + W / 2], std::make_index_sequence<W>{});
    }
    for (int i = 0; i < W; ++i) r[i] = t[i];
  }
}

// erf(x): Eigen's and XLA's float32 rational approximation x·P(x²)/Q(x²), x clamped to [-4, 4] (beyond it erf is
// ±1 in float32); the same coefficients as the wasm backend's kernels.wat.
inline V Erf(V a) {
  V x = a < -4.0f ? V{} - 4.0f : a;
  x = x > 4.0f ? V{} + 4.0f : x;
  const V x2 = x * x;
  V p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p + -2.10102402082508e-06f;
  p = x2 * p + -5.69250639462346e-05f;
  p = x2 * p + -7.34990630326855e-04f;
  p = x2 * p + -2.95459980854025e-03f;
  p = x2 * p + -1.60960333262415e-02f;
  V q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = x2 * q + -1.68282697438203e-03f;
  q = x2 * q + -7.37332916720468e-03f;
  q = x2 * q + -1.42647390514189e-02f;
  return x * p / q;
}

// tanh(u) = sign(u)·(1 − e)/(1 + e), e = exp(−2|u|) ≤ 1 (no overflow at any u).
inline V Tanh(V u) {
  const I negative = u < 0.0f;
  const V a = negative ? -u : u;
  const V e = ExpNonPositive(a * -2.0f);
  const V t = (1.0f - e) / (1.0f + e);
  return negative ? -t : t;
}

inline V Activate(V y, Activation act) {
  switch (act) {
    case Activation::kGelu:  // torch's F.gelu: x·Φ(x)
      return y * 0.5f * (1.0f + Erf(y * 0.70710678118654752f));
    case Activation::kGeluTanh:  // HF's gelu_new / gelu_pytorch_tanh
      return y * 0.5f * (1.0f + Tanh((y + y * y * y * 0.044715f) * 0.79788456080286536f));
    case Activation::kRelu:
      return y > 0.0f ? y : V{};
    case Activation::kLinear:
      break;
  }
  return y;
}

// One MR × NR tile of y at c (rows ldc apart): the sums over one KC slice of Ap (kc × MR) · Bp (kc × NR), added
// to what c holds unless `first`; on the `last` slice, + bias (NR values), the activation, + the residual at r
// (rows ldr apart; null for none).
__attribute__((noinline)) void Kernel(int64_t kc, const float* __restrict Ap, const float* __restrict Bp, float* c,
                                      int64_t ldc, bool first, bool last, const float* bias, Activation act,
                                      const float* r, int64_t ldr) {
  // The tile of y (and the residual's) is read at the end: fetched now, its latency hidden behind the sums.
  for (int i = 0; i < MR; ++i) {
    __builtin_prefetch(c + i * ldc, 1), __builtin_prefetch(c + i * ldc + NR - 1, 1);
    if (last && r) __builtin_prefetch(r + i * ldr), __builtin_prefetch(r + i * ldr + NR - 1);
  }
  V acc[MR][2] = {};
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const V b0 = *reinterpret_cast<const V*>(Bp + k * NR);
    const V b1 = *reinterpret_cast<const V*>(Bp + k * NR + W);
    const float* a = Ap + k * MR;
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      acc[i][0] += a[i] * b0;
      acc[i][1] += a[i] * b1;
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      float* ci = c + i * ldc + h * W;
      V y = first ? acc[i][h] : LoadU(ci) + acc[i][h];
      if (last) {
        y = Activate(y + LoadU(bias + h * W), act);
        if (r) y += LoadU(r + i * ldr + h * W);
      }
      StoreU(ci, y);
    }
  }
}

// Floats of scratch GemmBlock needs (with room to align to 64 bytes) for `cols` columns.
inline int64_t ScratchFloats(int64_t cols) {
  const int64_t slivers = (cols + NR - 1) / NR;
  return KC * slivers * NR + MC * KC + 2 * MR * NR + (slivers + 1) * NR + 64;
}

// y[m0:m1, n0:n1] of the product `g` describes, on this thread, with `scratch` (ScratchFloats(n1 − n0) floats).
void GemmBlock(const Gemm& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
  const int64_t cols = n1 - n0;
  const int64_t slivers = (cols + NR - 1) / NR;
  float* base = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  float* Bp = base;
  float* Ap = Bp + KC * slivers * NR;
  float* tile = Ap + MC * KC;   // an edge tile of y, padded to MR × NR
  float* rtile = tile + MR * NR;  // and of the residual
  float* bias = rtile + MR * NR;  // the bias of columns n0.., zero past n1
  for (int64_t j = 0; j < slivers * NR; ++j) bias[j] = n0 + j < n1 ? g.bias[n0 + j] : 0.0f;
  const int64_t K = g.K, N = g.N;
  for (int64_t pc = 0;; pc += KC) {
    const int64_t kc = std::min(KC, K - pc);
    const bool first = pc == 0, last = pc + kc >= K;
    for (int64_t s = 0; g.w_out_in && s < slivers; ++s) {
      const int64_t j0 = n0 + s * NR, jn = std::min<int64_t>(NR, n1 - j0);
      float* dst = Bp + s * kc * NR;
      // w [N, K]: column j of the product is row j of w. Whole slivers W × W at a time: W rows' next W values
      // read as vectors, transposed in registers, written as W rows of the sliver.
      int64_t k0 = 0;
      if (jn == NR)
        for (; k0 + W <= kc; k0 += W)
          for (int h = 0; h < NR / W; ++h) {
            V r[W];
            for (int i = 0; i < W; ++i) r[i] = LoadU(g.w + (j0 + h * W + i) * K + pc + k0);
            Transpose(r);
            for (int i = 0; i < W; ++i) *reinterpret_cast<V*>(dst + (k0 + i) * NR + h * W) = r[i];
          }
      if (k0 < kc) {
        for (int64_t j = 0; j < NR; ++j) {
          const float* src = g.w + (j0 + j) * K + pc;
          if (j < jn)
            for (int64_t k = k0; k < kc; ++k) dst[k * NR + j] = src[k];
          else
            for (int64_t k = k0; k < kc; ++k) dst[k * NR + j] = 0.0f;
        }
      }
    }
    if (!g.w_out_in) {  // w [K, N]: row by row (a weight comes from memory: read in order, the prefetcher's way)
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = g.w + (pc + k) * N + n0;
        for (int64_t s = 0; s < slivers; ++s) {
          float* dst = Bp + s * kc * NR + k * NR;
          const int64_t jn = std::min<int64_t>(NR, cols - s * NR);
          if (jn == NR) {
            *reinterpret_cast<V*>(dst) = LoadU(src + s * NR);
            *reinterpret_cast<V*>(dst + W) = LoadU(src + s * NR + W);
          } else {
            for (int64_t j = 0; j < NR; ++j) dst[j] = j < jn ? src[s * NR + j] : 0.0f;
          }
        }
      }
    }
    for (int64_t ic = m0; ic < m1; ic += MC) {
      const int64_t mc = std::min(MC, m1 - ic);
      const int64_t panels = (mc + MR - 1) / MR;
      for (int64_t p = 0; p < panels; ++p) {
        float* dst = Ap + p * kc * MR;
        for (int64_t i = 0; i < MR; ++i) {
          const int64_t row = ic + p * MR + i;
          const float* src = g.x + row * K + pc;
          if (row < m1)
            for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
          else
            for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = 0.0f;
        }
      }
      for (int64_t s = 0; s < slivers; ++s) {
        const int64_t j0 = n0 + s * NR, jn = std::min<int64_t>(NR, n1 - j0);
        const float* bs = bias + s * NR;
        for (int64_t p = 0; p < panels; ++p) {
          const int64_t i0 = ic + p * MR, in = std::min<int64_t>(MR, m1 - i0);
          const float* ap = Ap + p * kc * MR;
          const float* bp = Bp + s * kc * NR;
          float* c = g.y + i0 * N + j0;
          const float* r = g.residual ? g.residual + i0 * N + j0 : nullptr;
          if (in == MR && jn == NR) {
            Kernel(kc, ap, bp, c, N, first, last, bs, g.act, r, N);
            continue;
          }
          // At an edge: the same kernel on a padded copy of the tile (and of the residual's), then back.
          for (int64_t i = 0; i < MR; ++i)
            for (int64_t j = 0; j < NR; ++j) {
              const bool in_y = i < in && j < jn;
              tile[i * NR + j] = in_y && !first ? c[i * N + j] : 0.0f;
              rtile[i * NR + j] = in_y && r ? r[i * N + j] : 0.0f;
            }
          Kernel(kc, ap, bp, tile, NR, first, last, bs, g.act, r ? rtile : nullptr, NR);
          for (int64_t i = 0; i < in; ++i)
            for (int64_t j = 0; j < jn; ++j) c[i * N + j] = tile[i * NR + j];
        }
      }
    }
    if (last) break;
  }
}


// ---- SbertAttention: one sentence's one head ----

// z's row i = Σ_j p[j]·v[j] over L keys, d = NB·W columns held in registers.
template <int NB>
void WeightedRow(const float* p, float inv, const float* v, int64_t ld, int64_t L, float* zi) {
  V acc[NB] = {};
  for (int64_t j = 0; j < L; ++j) {
    const float pj = p[j] * inv;
    const float* vj = v + j * ld;
#pragma GCC unroll 8
    for (int b = 0; b < NB; ++b) acc[b] += pj * LoadU(vj + b * W);
  }
#pragma GCC unroll 8
  for (int b = 0; b < NB; ++b) StoreU(zi + b * W, acc[b]);
}

// The same for any d: whole vectors through memory, then the tail.
void WeightedRowAny(const float* p, float inv, const float* v, int64_t ld, int64_t L, int64_t d, float* zi) {
  const int64_t whole = d / W * W;
  for (int64_t c = 0; c < d; ++c) zi[c] = 0.0f;
  for (int64_t j = 0; j < L; ++j) {
    const float pj = p[j] * inv;
    const float* vj = v + j * ld;
    for (int64_t c = 0; c < whole; c += W) StoreU(zi + c, LoadU(zi + c) + pj * LoadU(vj + c));
    for (int64_t c = whole; c < d; ++c) zi[c] += pj * vj[c];
  }
}

// q, k, v: the first row's element at the head's first column, rows `ld` apart; mask: L additive values; z: the
// first row's output at the head's first column, rows `ldz` apart; kT: d·Lp and S: L·Lp scratch floats, Lp = L
// rounded up to W (keys past L are zero, their lanes dropped). Scores = q·kᵀ·scale + mask, softmax over the keys
// (max subtracted), z = p·v. Every sum runs in a fixed order: q·k over the columns in order, p·v over the keys.
void Head(const float* q, const float* k, const float* v, int64_t ld, const float* mask, int64_t L, int64_t d,
          float scale, float* z, int64_t ldz, float* kT, float* S) {
  const int64_t Lp = (L + W - 1) / W * W;
  for (int64_t c = 0; c < d; ++c)
    for (int64_t j = L; j < Lp; ++j) kT[c * Lp + j] = 0.0f;
  for (int64_t j = 0; j < L; ++j)
    for (int64_t c = 0; c < d; ++c) kT[c * Lp + j] = k[j * ld + c];
  // Scores of four queries at a time against W keys: four independent sums in registers.
  for (int64_t i0 = 0; i0 < L; i0 += 4) {
    const float* q0 = q + i0 * ld;
    const float* q1 = q + (i0 + 1 < L ? i0 + 1 : i0) * ld;
    const float* q2 = q + (i0 + 2 < L ? i0 + 2 : i0) * ld;
    const float* q3 = q + (i0 + 3 < L ? i0 + 3 : i0) * ld;
    for (int64_t j0 = 0; j0 < Lp; j0 += W) {
      V a0{}, a1{}, a2{}, a3{};
      for (int64_t c = 0; c < d; ++c) {
        const V kr = LoadU(kT + c * Lp + j0);
        a0 += q0[c] * kr;
        a1 += q1[c] * kr;
        a2 += q2[c] * kr;
        a3 += q3[c] * kr;
      }
      StoreU(S + i0 * Lp + j0, a0);
      if (i0 + 1 < L) StoreU(S + (i0 + 1) * Lp + j0, a1);
      if (i0 + 2 < L) StoreU(S + (i0 + 2) * Lp + j0, a2);
      if (i0 + 3 < L) StoreU(S + (i0 + 3) * Lp + j0, a3);
    }
  }
  for (int64_t i = 0; i < L; ++i) {
    float* s = S + i * Lp;
    float max = -__builtin_inff();
    for (int64_t j = 0; j < L; ++j) {
      s[j] = s[j] * scale + mask[j];
      max = s[j] > max ? s[j] : max;
    }
    for (int64_t j0 = 0; j0 < Lp; j0 += W) StoreU(s + j0, ExpNonPositive(LoadU(s + j0) - max));
    float sum = 0.0f;
    for (int64_t j = 0; j < L; ++j) sum += s[j];
    const float inv = 1.0f / sum;
    float* zi = z + i * ldz;
    switch (d % W == 0 ? d / W : 0) {
      case 1: WeightedRow<1>(s, inv, v, ld, L, zi); break;
      case 2: WeightedRow<2>(s, inv, v, ld, L, zi); break;
      case 4: WeightedRow<4>(s, inv, v, ld, L, zi); break;
      case 6: WeightedRow<6>(s, inv, v, ld, L, zi); break;
      case 8: WeightedRow<8>(s, inv, v, ld, L, zi); break;
      default: WeightedRowAny(s, inv, v, ld, L, d, zi);
    }
  }
}

// ---- SbertLayerNorm: rows of H ----

// torch's LayerNorm over each row: the mean, then the biased variance of x − mean (two passes, each summing W
// float32 lanes whose sum is then taken in float64), y = (x − mean) / √(var + ε) · γ + β.
void NormRows(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t H, float eps, float* y) {
  const int64_t whole = H / W * W;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * H;
    V lanes{};
    for (int64_t c = 0; c < whole; c += W) lanes += LoadU(xr + c);
    double sum = LaneSum(lanes);
    for (int64_t c = whole; c < H; ++c) sum += xr[c];
    const float mean = static_cast<float>(sum / static_cast<double>(H));
    V sq{};
    for (int64_t c = 0; c < whole; c += W) {
      const V dv = LoadU(xr + c) - mean;
      sq += dv * dv;
    }
    double ss = LaneSum(sq);
    for (int64_t c = whole; c < H; ++c) ss += static_cast<double>(xr[c] - mean) * (xr[c] - mean);
    const float rstd = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(H) + static_cast<double>(eps)));
    float* yr = y + r * H;
    for (int64_t c = 0; c < whole; c += W)
      StoreU(yr + c, (LoadU(xr + c) - mean) * rstd * LoadU(gamma + c) + LoadU(beta + c));
    for (int64_t c = whole; c < H; ++c) yr[c] = (xr[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

}  // namespace SBERT_KERNELS_NS
