// sbert-tfjs's own TensorFlow op: BERT's attention core as one kernel, registered through TensorFlow's stable C
// API (tensorflow/c/ops.h, kernels.h), so it builds against any TensorFlow wheel's headers and loads beside its
// libraries. Built by scripts/build-tensorflow.mjs into tfjs-node's deps/ folder and loaded by the preload helper
// (scripts/tensorflow-preload.cc) after TensorFlow's libraries; src/backend/tensorflow-kernels.ts checks it at
// start-up against TensorFlow's own ops and runs without it where it is missing or wrong.
//
//   SbertAttention(qkv: float [B·L, 3·heads·d], mask: float [B, 1, 1, L]; heads: int, scale: float)
//     → z: float [B·L, heads·d]
//
// qkv holds Q's, K's and V's columns side by side, as one Linear of HF's three weights makes them; mask is HF's
// additive mask (0 to keep, finfo(float32).min to drop). Per sentence b and head h: scores = (q·kᵀ)·scale + mask,
// softmax over keys (max subtracted, as torch's), z = probabilities · v, written into z's row at the head's columns
// (heads merged, as BertSelfAttention's output is). What this saves over TensorFlow's ops: the transposes to
// heads-first and back, and one dispatch each for the scores, softmax and products (docs/tensorflow.md). Heads are
// independent; the kernel runs them on the calling thread (an eager op's), reading q, k and v where they lie.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <thread>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_datatype.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace {

struct Attrs {
  int32_t heads = 0;
  float scale = 1.0f;
  int32_t threads = 1;
};

// On x86-64 the kernels are compiled three ways and the loader picks what the CPU runs (GCC's and clang's
// function multiversioning); elsewhere once, for the compiler's default target.
#if defined(__x86_64__)
#define SBERT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SBERT_CLONES
#endif

// 16 floats as one value: GCC lowers these to AVX-512, AVX2 or SSE by the target of each clone of Head below.
typedef float V16 __attribute__((vector_size(64)));
typedef int32_t I16 __attribute__((vector_size(64)));
// The same, for loads and stores at any float's alignment.
typedef float V16u __attribute__((vector_size(64), aligned(4)));

inline V16 Load(const float* p) { return *reinterpret_cast<const V16u*>(p); }
inline void Store(float* p, V16 v) { *reinterpret_cast<V16u*>(p) = v; }

// expf of x ≤ 0 (a softmax's shifted scores), 16 at a time: Cephes' range reduction and polynomial (as the wasm
// backend's kernels.wat), within 2 ulp of expf on [-87.3, 0]; below that 0 (torch's exp of a masked score is 0).
inline V16 ExpNonPositive(V16 x) {
  const I16 under = x < -87.3f;
  // Clamped to [-87.3, 0] first: every lane's conversion to int below is then in range (a masked score, or a lane
  // past the keys, would not be), and the lanes under it are set to 0 at the end.
  x = under ? V16{} - 87.3f : x;
  x = x > 0.0f ? V16{} : x;
  const V16 t = x * 1.44269504088896341f + 0.5f;
  const I16 ti = __builtin_convertvector(t, I16);  // toward zero
  const V16 tf = __builtin_convertvector(ti, V16);
  const V16 fx = tf + __builtin_convertvector((tf > t) ? -1 : 0, V16);  // floor
  const V16 r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
  V16 y = r * 1.9875691500e-4f + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const I16 e = (__builtin_convertvector(fx, I16) + 127) << 23;
  return under ? V16{} : y * __builtin_bit_cast(V16, e);
}

// One sentence's one head; d at most 256 (16 vectors of z's row in registers; a tail past the last whole vector). q, k, v: its first row's element at the head's first
// column, rows `ld` apart; mask: L additive values; z: its first row's output at the head's first column, rows
// `ldz` apart; kT: d·Lp and S: L·Lp scratch floats, Lp = L rounded up to 16 (keys past L are zero, their lanes
// dropped). Every sum runs in a fixed order: q·k over the columns in order, p·v over the keys in order.
SBERT_CLONES void Head(const float* q, const float* k,
                                                                          const float* v, int64_t ld,
                                                                          const float* mask, int64_t L, int64_t d,
                                                                          float scale, float* z, int64_t ldz,
                                                                          float* kT, float* S) {
  const int64_t Lp = (L + 15) / 16 * 16;
  for (int64_t c = 0; c < d; ++c)
    for (int64_t j = L; j < Lp; ++j) kT[c * Lp + j] = 0.0f;
  for (int64_t j = 0; j < L; ++j)
    for (int64_t c = 0; c < d; ++c) kT[c * Lp + j] = k[j * ld + c];
  // Scores of four queries at a time against 16 keys: four independent sums in registers.
  for (int64_t i0 = 0; i0 < L; i0 += 4) {
    const float* q0 = q + i0 * ld;
    const float* q1 = q + (i0 + 1 < L ? i0 + 1 : i0) * ld;
    const float* q2 = q + (i0 + 2 < L ? i0 + 2 : i0) * ld;
    const float* q3 = q + (i0 + 3 < L ? i0 + 3 : i0) * ld;
    for (int64_t j0 = 0; j0 < Lp; j0 += 16) {
      V16 a0{}, a1{}, a2{}, a3{};
      for (int64_t c = 0; c < d; ++c) {
        const V16 kr = Load(kT + c * Lp + j0);
        a0 += q0[c] * kr;
        a1 += q1[c] * kr;
        a2 += q2[c] * kr;
        a3 += q3[c] * kr;
      }
      Store(S + i0 * Lp + j0, a0);
      if (i0 + 1 < L) Store(S + (i0 + 1) * Lp + j0, a1);
      if (i0 + 2 < L) Store(S + (i0 + 2) * Lp + j0, a2);
      if (i0 + 3 < L) Store(S + (i0 + 3) * Lp + j0, a3);
    }
  }
  const int64_t blocks = d / 16;
  for (int64_t i = 0; i < L; ++i) {
    float* s = S + i * Lp;
    float max = -__builtin_inff();
    for (int64_t j = 0; j < L; ++j) {
      s[j] = s[j] * scale + mask[j];
      max = s[j] > max ? s[j] : max;
    }
    for (int64_t j0 = 0; j0 < Lp; j0 += 16) Store(s + j0, ExpNonPositive(Load(s + j0) - max));
    float sum = 0.0f;
    for (int64_t j = 0; j < L; ++j) sum += s[j];
    const float inv = 1.0f / sum;
    V16 acc[16];
    float tail[16];
    for (int64_t b = 0; b < blocks; ++b) acc[b] = V16{};
    for (int64_t c = 16 * blocks; c < d; ++c) tail[c - 16 * blocks] = 0.0f;
    for (int64_t j = 0; j < L; ++j) {
      const float p = s[j] * inv;
      const float* vj = v + j * ld;
      for (int64_t b = 0; b < blocks; ++b) acc[b] += p * Load(vj + 16 * b);
      for (int64_t c = 16 * blocks; c < d; ++c) tail[c - 16 * blocks] += p * vj[c];
    }
    float* zi = z + i * ldz;
    for (int64_t b = 0; b < blocks; ++b) Store(zi + 16 * b, acc[b]);
    for (int64_t c = 16 * blocks; c < d; ++c) zi[c] = tail[c - 16 * blocks];
  }
}

void* Create(TF_OpKernelConstruction* ctx) {
  auto* attrs = new Attrs;
  TF_Status* status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrInt32(ctx, "heads", &attrs->heads, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrFloat(ctx, "scale", &attrs->scale, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrInt32(ctx, "threads", &attrs->threads, status);
  if (TF_GetCode(status) == TF_OK && (attrs->heads < 1 || attrs->threads < 1 || attrs->threads > 256))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SbertAttention: heads must be at least 1, threads in [1, 256]");
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return attrs;
}

void Delete(void* kernel) { delete static_cast<Attrs*>(kernel); }

void Compute(void* kernel, TF_OpKernelContext* ctx) {
  const Attrs& attrs = *static_cast<Attrs*>(kernel);
  TF_Status* status = TF_NewStatus();
  TF_Tensor* qkv = nullptr;
  TF_Tensor* mask = nullptr;
  TF_Tensor* out = nullptr;
  TF_GetInput(ctx, 0, &qkv, status);
  if (TF_GetCode(status) == TF_OK) TF_GetInput(ctx, 1, &mask, status);
  if (TF_GetCode(status) == TF_OK) {
    const int64_t heads = attrs.heads;
    const bool ranks = TF_NumDims(qkv) == 2 && TF_NumDims(mask) == 4;
    const int64_t rows = ranks ? TF_Dim(qkv, 0) : 0;
    const int64_t width = ranks ? TF_Dim(qkv, 1) : 0;
    const int64_t B = ranks ? TF_Dim(mask, 0) : 0;
    const int64_t L = ranks ? TF_Dim(mask, 3) : 0;
    if (!ranks || TF_TensorType(qkv) != TF_FLOAT || TF_TensorType(mask) != TF_FLOAT || TF_Dim(mask, 1) != 1 ||
        TF_Dim(mask, 2) != 1 || B * L != rows || width % (3 * heads) != 0 || width / 3 / heads > 256) {
      TF_SetStatus(status, TF_INVALID_ARGUMENT,
                   "SbertAttention: expected float qkv [B*L, 3*heads*d] (d at most 256) and mask [B, 1, 1, L]");
    } else {
      const int64_t H = width / 3;
      const int64_t d = H / heads;
      const int64_t dims[2] = {rows, H};
      out = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, 2, static_cast<size_t>(rows * H) * sizeof(float), status);
      if (TF_GetCode(status) == TF_OK && rows > 0) {
        const float* x = static_cast<const float*>(TF_TensorData(qkv));
        const float* m = static_cast<const float*>(TF_TensorData(mask));
        float* z = static_cast<float*>(TF_TensorData(out));
        const int64_t Lp = (L + 15) / 16 * 16;
        // Heads of sentences [from, to) in B·heads order, on this thread's scratch. Never throws: a scratch that
        // cannot be had is reported once all threads are done (an exception must not reach TensorFlow, nor end a
        // helper thread).
        std::atomic<bool> no_memory{false};
        auto run = [=, &no_memory](int64_t from, int64_t to) noexcept {
          std::vector<float> scratch;
          try {
            scratch.resize(static_cast<size_t>((d + L) * Lp));
          } catch (...) {
            no_memory = true;
            return;
          }
          for (int64_t n = from; n < to; ++n) {
            const int64_t b = n / heads, h = n % heads;
            const float* xb = x + b * L * width;
            Head(xb + h * d, xb + H + h * d, xb + 2 * H + h * d, width, m + b * L, L, d, attrs.scale,
                 z + b * L * H + h * d, H, scratch.data(), scratch.data() + d * Lp);
          }
        };
        // The caller's thread takes the first share, threads - 1 helpers the rest (TensorFlow's own threads idle
        // meanwhile: an eager op runs on the thread that dispatched it). Small work stays on one thread.
        const int64_t work = B * heads;
        const int64_t flops = work * L * L * d * 4;
        const int64_t threads = flops < (int64_t{1} << 22) ? 1 : std::min<int64_t>(attrs.threads, work);
        std::vector<std::thread> helpers;
        try {
          helpers.reserve(static_cast<size_t>(threads - 1));
        } catch (...) {
        }
        for (int64_t t = 1; t < threads; ++t) {
          try {
            helpers.emplace_back(run, work * t / threads, work * (t + 1) / threads);
          } catch (...) {
            run(work * t / threads, work);  // no thread for this share and the rest: the caller runs them
            break;
          }
        }
        run(0, work / threads);
        for (std::thread& t : helpers) t.join();
        if (no_memory) TF_SetStatus(status, TF_RESOURCE_EXHAUSTED, "SbertAttention: out of memory for its scratch");
      }
    }
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  TF_DeleteTensor(qkv);
  TF_DeleteTensor(mask);
  TF_DeleteTensor(out);
  TF_DeleteStatus(status);
}

// ---- SbertLayerNorm(x: float [..., H], gamma: float [H], beta: float [H]; epsilon: float) → y, shaped as x ----
// torch's LayerNorm over the last axis: mean, then the biased variance of x - mean (two
// passes, each summing 16 float32 lanes, whose sum is then taken in float64), y = (x - mean) / sqrt(var + eps) · γ + β.
// What this saves over _MklLayerNorm: that op builds its oneDNN primitive and copies γ and β on every call (≈ 0.3 ms
// of its 0.4 ms on BERT-base's rows, docs/tensorflow.md).

struct NormAttrs {
  float epsilon = 1e-12f;
};

SBERT_CLONES void NormRows(const float* x, const float* gamma,
                                                                              const float* beta, int64_t rows,
                                                                              int64_t H, float eps, float* y) {
  const int64_t whole = H / 16 * 16;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * H;
    V16 lanes{};
    for (int64_t c = 0; c < whole; c += 16) lanes += Load(xr + c);
    double sum = 0.0;
    for (int u = 0; u < 16; ++u) sum += lanes[u];
    for (int64_t c = whole; c < H; ++c) sum += xr[c];
    const float mean = static_cast<float>(sum / static_cast<double>(H));
    V16 sq{};
    for (int64_t c = 0; c < whole; c += 16) {
      const V16 dv = Load(xr + c) - mean;
      sq += dv * dv;
    }
    double ss = 0.0;
    for (int u = 0; u < 16; ++u) ss += sq[u];
    for (int64_t c = whole; c < H; ++c) ss += static_cast<double>(xr[c] - mean) * (xr[c] - mean);
    const float rstd = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(H) + static_cast<double>(eps)));
    float* yr = y + r * H;
    for (int64_t c = 0; c < whole; c += 16)
      Store(yr + c, (Load(xr + c) - mean) * rstd * Load(gamma + c) + Load(beta + c));
    for (int64_t c = whole; c < H; ++c) yr[c] = (xr[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

void* NormCreate(TF_OpKernelConstruction* ctx) {
  auto* attrs = new NormAttrs;
  TF_Status* status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrFloat(ctx, "epsilon", &attrs->epsilon, status);
  if (TF_GetCode(status) == TF_OK && !(attrs->epsilon >= 0.0f))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SbertLayerNorm: epsilon must be a number >= 0");
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return attrs;
}

void NormDelete(void* kernel) { delete static_cast<NormAttrs*>(kernel); }

void NormCompute(void* kernel, TF_OpKernelContext* ctx) {
  const NormAttrs& attrs = *static_cast<NormAttrs*>(kernel);
  TF_Status* status = TF_NewStatus();
  TF_Tensor* in[3] = {nullptr, nullptr, nullptr};
  TF_Tensor* out = nullptr;
  for (int i = 0; i < 3 && TF_GetCode(status) == TF_OK; ++i) TF_GetInput(ctx, i, &in[i], status);
  if (TF_GetCode(status) == TF_OK) {
    const int rank = TF_NumDims(in[0]);
    const bool ranks = rank >= 1 && rank <= 8 && TF_NumDims(in[1]) == 1 && TF_NumDims(in[2]) == 1;
    const int64_t H = ranks ? TF_Dim(in[0], rank - 1) : 0;
    if (!ranks || TF_TensorType(in[0]) != TF_FLOAT || TF_TensorType(in[1]) != TF_FLOAT ||
        TF_TensorType(in[2]) != TF_FLOAT || H == 0 || TF_Dim(in[1], 0) != H || TF_Dim(in[2], 0) != H) {
      TF_SetStatus(status, TF_INVALID_ARGUMENT,
                   "SbertLayerNorm: expected float x [..., H] (H > 0, rank at most 8), gamma [H] and beta [H]");
    } else {
      int64_t dims[8];
      for (int i = 0; i < rank; ++i) dims[i] = TF_Dim(in[0], i);
      const int64_t count = TF_TensorElementCount(in[0]);
      out = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, rank, static_cast<size_t>(count) * sizeof(float), status);
      if (TF_GetCode(status) == TF_OK && count > 0) {
        NormRows(static_cast<const float*>(TF_TensorData(in[0])), static_cast<const float*>(TF_TensorData(in[1])),
                 static_cast<const float*>(TF_TensorData(in[2])), count / H, H, attrs.epsilon,
                 static_cast<float*>(TF_TensorData(out)));
      }
    }
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  for (TF_Tensor* t : in) TF_DeleteTensor(t);
  TF_DeleteTensor(out);
  TF_DeleteStatus(status);
}

void UnknownShape(TF_ShapeInferenceContext* ctx, TF_Status* status) {
  TF_ShapeInferenceContextSetUnknownShape(ctx, status);
}

// One op and its CPU kernel, through the C API; a failure leaves the op unregistered (the start-up check then finds
// it absent and TensorFlow's ops run).
void RegisterOp(const char* name, std::initializer_list<const char*> inputs, const char* output,
                std::initializer_list<const char*> attrs, void* (*create)(TF_OpKernelConstruction*),
                void (*compute)(void*, TF_OpKernelContext*), void (*destroy)(void*)) {
  TF_Status* status = TF_NewStatus();
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(name);
  for (const char* input : inputs) TF_OpDefinitionBuilderAddInput(op, input);
  TF_OpDefinitionBuilderAddOutput(op, output);
  for (const char* attr : attrs) TF_OpDefinitionBuilderAddAttr(op, attr);
  TF_OpDefinitionBuilderSetShapeInferenceFunction(op, &UnknownShape);
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) == TF_OK)
    TF_RegisterKernelBuilder(name, TF_NewKernelBuilder(name, "CPU", create, compute, destroy), status);
  TF_DeleteStatus(status);
}

// Registered when the preload helper loads this library (after TensorFlow's, before the first context).
__attribute__((constructor)) void Register() {
  RegisterOp("SbertAttention", {"qkv: float", "mask: float"}, "z: float",
             {"heads: int >= 1", "scale: float", "threads: int = 1"}, &Create, &Compute, &Delete);
  RegisterOp("SbertLayerNorm", {"x: float", "gamma: float", "beta: float"}, "y: float", {"epsilon: float"},
             &NormCreate, &NormCompute, &NormDelete);
}

}  // namespace
