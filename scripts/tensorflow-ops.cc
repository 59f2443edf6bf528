// sbert-tfjs's own TensorFlow ops: BERT's attention core, LayerNorm and the Linear layer each as one kernel,
// registered through TensorFlow's stable C API (tensorflow/c/ops.h, kernels.h), so they build against any
// TensorFlow wheel's headers and load beside its libraries. Built by scripts/build-tensorflow.mjs into tfjs-node's
// deps/ folder and loaded by the preload helper (scripts/tensorflow-preload.cc) after TensorFlow's libraries;
// src/backend/tensorflow-kernels.ts checks each op at start-up against TensorFlow's own ops and runs without it
// where it is missing or wrong. The vector kernels are in tensorflow-kernels.h, compiled once per instruction set.
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
//
//   SbertLinear(x: float [M, K], w: float [K, N] ([N, K] with transpose_w), bias: float [N];
//               transpose_w: bool, activation: linear | relu | gelu | gelu_tanh, threads: int) → y: float [M, N]
//   SbertLinearAdd(x, w, bias, residual: float [M, N]; the same attributes) → y = activation(x·w + bias) + residual
//
// torch's nn.Linear (+ F.gelu, HF's gelu_new, ReLU; + BertSelfOutput's / BertOutput's residual add) as one
// matrix product with its epilogue in registers (tensorflow-gemm.h). What this saves over oneDNN's
// _MklNativeFusedMatMul: its sgemm ran these shapes at 60–75 % of the rate torch's MKL does on the machines
// measured (docs/tensorflow.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>
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

// Helper threads, started on first use and kept for the life of the process: an eager op runs on the thread that
// dispatched it, and TensorFlow's C API gives kernels no thread pool. Starting a thread per call cost ≈ 30 µs, as
// much as a small op. A call's shares go to one queue; the caller runs share 0, then any of its shares no helper
// has taken (so a call finishes even where no helper could be started), then waits for the rest. Both sides spin
// for up to kSpin before sleeping: a forward's ops come ≈ 20–50 µs apart, and waking a sleeping thread costs about
// as much again. Never destroyed: the helpers are detached and wait on the queue until the process ends.
class Helpers {
 public:
  static Helpers& Get() {
    static Helpers* helpers = new Helpers;
    return *helpers;
  }

  // share(0) … share(n − 1), concurrently where helpers are free; returns when all have run. `share` must not
  // throw.
  void Run(int64_t n, const std::function<void(int64_t)>& share) {
    if (n <= 1) {
      if (n == 1) share(0);
      return;
    }
    Call call;
    call.left = n - 1;
    int64_t queued = 1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      try {
        for (; queued < n; ++queued) {
          queue_.push_back(Task{&share, queued, &call});
          ++waiting_;
        }
        while (static_cast<int64_t>(started_) < std::min<int64_t>(n - 1, kMaxHelpers)) {
          std::thread(&Helpers::Serve, this).detach();
          ++started_;
        }
      } catch (...) {  // no memory or no thread: the caller runs what is not queued, and takes the queue's below
      }
    }
    work_.notify_all();
    share(0);
    for (int64_t i = queued; i < n; ++i) {
      share(i);
      Finish(&call);
    }
    for (;;) {  // this call's shares still queued
      Task task{};
      {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Task& t) { return t.call == &call; });
        if (it == queue_.end()) break;
        task = *it;
        queue_.erase(it);
        --waiting_;
      }
      (*task.share)(task.index);
      Finish(&call);
    }
    SpinUntil([&] { return call.left.load(std::memory_order_acquire) == 0; });
    // Under the call's lock either way: the last Finish may not touch the call after this returns.
    std::unique_lock<std::mutex> lock(call.mutex);
    call.done.wait(lock, [&] { return call.left.load() == 0; });
  }

 private:
  static constexpr int64_t kMaxHelpers = 255;
  static constexpr std::chrono::microseconds kSpin{100};
  struct Call {
    std::mutex mutex;
    std::condition_variable done;
    std::atomic<int64_t> left{0};  // changed under `mutex`
  };
  struct Task {
    const std::function<void(int64_t)>* share;
    int64_t index;
    Call* call;
  };

  template <typename Done>
  static void SpinUntil(Done done) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int i = 1; !done(); ++i) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0 && std::chrono::steady_clock::now() > until) return;
    }
  }

  static void Finish(Call* call) {
    std::lock_guard<std::mutex> lock(call->mutex);
    if (call->left.fetch_sub(1) == 1) call->done.notify_all();
  }

  void Serve() {
    for (;;) {
      SpinUntil([&] { return waiting_.load(std::memory_order_relaxed) > 0; });
      Task task{};
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_.wait(lock, [&] { return !queue_.empty(); });
        task = queue_.front();
        queue_.pop_front();
        --waiting_;
      }
      (*task.share)(task.index);
      Finish(task.call);
    }
  }

  std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Task> queue_;
  std::atomic<int64_t> waiting_{0};  // queue_'s length, changed under mutex_, read while spinning
  int started_ = 0;
};

// The vector kernels, once per instruction set (tensorflow-kernels.h), each compiled for it whatever the
// compiler's default target; `Isa()` picks one.
enum class Activation { kLinear, kRelu, kGelu, kGeluTanh };

// One product: x [M, K] row-major; w [K, N], or [N, K] (HF's nn.Linear layout) with w_out_in; y [M, N].
struct Gemm {
  const float* x;
  const float* w;
  const float* bias;
  const float* residual;  // [M, N] or null
  float* y;
  int64_t M, K, N;
  bool w_out_in;
  Activation act;
};

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#define SBERT_KERNELS_NS avx512
#define SBERT_KERNELS_W 16
#include "tensorflow-kernels.h"
#undef SBERT_KERNELS_NS
#undef SBERT_KERNELS_W
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SBERT_KERNELS_NS avx2
#define SBERT_KERNELS_W 8
#include "tensorflow-kernels.h"
#undef SBERT_KERNELS_NS
#undef SBERT_KERNELS_W
#pragma GCC pop_options
#endif
#define SBERT_KERNELS_NS baseline
#define SBERT_KERNELS_W 4
#include "tensorflow-kernels.h"
#undef SBERT_KERNELS_NS
#undef SBERT_KERNELS_W

// One instruction set's kernels.
struct Kernels {
  const char* name;
  int32_t width;   // floats per vector
  int64_t mr, nr;  // the product's tile
  int64_t (*scratch_floats)(int64_t cols);
  void (*gemm_block)(const Gemm&, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
  void (*head)(const float* q, const float* k, const float* v, int64_t ld, const float* mask, int64_t L, int64_t d,
               float scale, float* z, int64_t ldz, float* kT, float* S);
  void (*norm_rows)(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t H, float eps,
                    float* y);
};

#define SBERT_KERNELS(ns) \
  Kernels { #ns, ns::W, ns::MR, ns::NR, &ns::ScratchFloats, &ns::GemmBlock, &ns::Head, &ns::NormRows }

// The widest the CPU runs; SBERT_TF_KERNELS_ISA (avx512, avx2, baseline) asks for a narrower one, to test each.
const Kernels& Isa() {
  static const Kernels chosen = [] {
#if defined(__x86_64__)
    const Kernels isas[] = {SBERT_KERNELS(avx512), SBERT_KERNELS(avx2)};
    __builtin_cpu_init();
    const bool runs[] = {__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"),
                         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")};
    const char* asked = std::getenv("SBERT_TF_KERNELS_ISA");
    bool skip = asked != nullptr && *asked != '\0';
    for (int i = 0; i < 2; ++i) {
      if (skip && std::strcmp(asked, isas[i].name) == 0) skip = false;
      if (runs[i] && !skip) return isas[i];
    }
#endif
    return SBERT_KERNELS(baseline);
  }();
  return chosen;
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
            Isa().head(xb + h * d, xb + H + h * d, xb + 2 * H + h * d, width, m + b * L, L, d, attrs.scale,
                       z + b * L * H + h * d, H, scratch.data(), scratch.data() + d * Lp);
          }
        };
        // Split over `threads` shares (the caller's thread and helpers; TensorFlow's own threads idle meanwhile: an
        // eager op runs on the thread that dispatched it). Small work stays on one thread.
        const int64_t work = B * heads;
        const int64_t flops = work * L * L * d * 4;
        const int64_t threads = flops < (int64_t{1} << 22) ? 1 : std::min<int64_t>(attrs.threads, work);
        Helpers::Get().Run(threads, [&](int64_t t) { run(work * t / threads, work * (t + 1) / threads); });
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

// ---- SbertLayerNorm(x: float [..., H], gamma: float [H], beta: float [H]; epsilon: float, threads: int) → y,
// shaped as x ----
// torch's LayerNorm over the last axis: mean, then the biased variance of x - mean (two passes, each summing a
// vector's float32 lanes, whose sum is then taken in float64), y = (x - mean) / sqrt(var + eps) · γ + β.
// What this saves over _MklLayerNorm: that op builds its oneDNN primitive and copies γ and β on every call (≈ 0.3 ms
// of its 0.4 ms on BERT-base's rows, docs/tensorflow.md).

struct NormAttrs {
  float epsilon = 1e-12f;
  int32_t threads = 1;
};

void* NormCreate(TF_OpKernelConstruction* ctx) {
  auto* attrs = new NormAttrs;
  TF_Status* status = TF_NewStatus();
  TF_OpKernelConstruction_GetAttrFloat(ctx, "epsilon", &attrs->epsilon, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrInt32(ctx, "threads", &attrs->threads, status);
  if (TF_GetCode(status) == TF_OK && !(attrs->epsilon >= 0.0f))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SbertLayerNorm: epsilon must be a number >= 0");
  if (TF_GetCode(status) == TF_OK && (attrs->threads < 1 || attrs->threads > 256))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SbertLayerNorm: threads must be in [1, 256]");
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
        const float* x = static_cast<const float*>(TF_TensorData(in[0]));
        const float* gamma = static_cast<const float*>(TF_TensorData(in[1]));
        const float* beta = static_cast<const float*>(TF_TensorData(in[2]));
        float* y = static_cast<float*>(TF_TensorData(out));
        // Rows split over the threads (each row whole on one: the same bits however many); under 64 K values, one.
        const int64_t rows = count / H;
        const int64_t threads = count < (int64_t{1} << 16) ? 1 : std::min<int64_t>(attrs.threads, rows);
        Helpers::Get().Run(threads, [&](int64_t t) {
          const int64_t from = rows * t / threads, to = rows * (t + 1) / threads;
          Isa().norm_rows(x + from * H, gamma, beta, to - from, H, attrs.epsilon, y + from * H);
        });
      }
    }
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  for (TF_Tensor* t : in) TF_DeleteTensor(t);
  TF_DeleteTensor(out);
  TF_DeleteStatus(status);
}

// ---- SbertLinear / SbertLinearAdd: y = activation(x · w + bias) [+ residual] (see the top of this file) ----

struct LinearAttrs {
  bool w_out_in = false;
  Activation act = Activation::kLinear;
  int32_t threads = 1;
};

void* LinearCreate(TF_OpKernelConstruction* ctx) {
  auto* attrs = new LinearAttrs;
  TF_Status* status = TF_NewStatus();
  TF_Bool out_in = 0;
  char act[16] = {};
  TF_OpKernelConstruction_GetAttrBool(ctx, "transpose_w", &out_in, status);
  if (TF_GetCode(status) == TF_OK)
    TF_OpKernelConstruction_GetAttrString(ctx, "activation", act, sizeof act - 1, status);
  if (TF_GetCode(status) == TF_OK) TF_OpKernelConstruction_GetAttrInt32(ctx, "threads", &attrs->threads, status);
  attrs->w_out_in = out_in != 0;
  const std::string name(act);
  attrs->act = name == "relu"        ? Activation::kRelu
               : name == "gelu"      ? Activation::kGelu
               : name == "gelu_tanh" ? Activation::kGeluTanh
                                     : Activation::kLinear;
  if (TF_GetCode(status) == TF_OK && (attrs->threads < 1 || attrs->threads > 256))
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "SbertLinear: threads must be in [1, 256]");
  if (TF_GetCode(status) != TF_OK) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return attrs;
}

void LinearDelete(void* kernel) { delete static_cast<LinearAttrs*>(kernel); }

void LinearCompute(void* kernel, TF_OpKernelContext* ctx) {
  const LinearAttrs& attrs = *static_cast<LinearAttrs*>(kernel);
  TF_Status* status = TF_NewStatus();
  const int inputs = TF_NumInputs(ctx);
  TF_Tensor* in[4] = {nullptr, nullptr, nullptr, nullptr};
  TF_Tensor* out = nullptr;
  for (int i = 0; i < inputs && i < 4 && TF_GetCode(status) == TF_OK; ++i) TF_GetInput(ctx, i, &in[i], status);
  if (TF_GetCode(status) == TF_OK) {
    TF_Tensor *x = in[0], *w = in[1], *b = in[2], *r = inputs == 4 ? in[3] : nullptr;
    bool ok = TF_NumDims(x) == 2 && TF_NumDims(w) == 2 && TF_NumDims(b) == 1 && (!r || TF_NumDims(r) == 2);
    for (int i = 0; i < inputs && i < 4; ++i) ok = ok && TF_TensorType(in[i]) == TF_FLOAT;
    const int64_t M = ok ? TF_Dim(x, 0) : 0, K = ok ? TF_Dim(x, 1) : 0;
    const int64_t N = ok ? TF_Dim(w, attrs.w_out_in ? 0 : 1) : 0;
    ok = ok && TF_Dim(w, attrs.w_out_in ? 1 : 0) == K && TF_Dim(b, 0) == N &&
         (!r || (TF_Dim(r, 0) == M && TF_Dim(r, 1) == N));
    if (!ok) {
      TF_SetStatus(status, TF_INVALID_ARGUMENT,
                   "SbertLinear: expected float x [M, K], w [K, N] ([N, K] with transpose_w), bias [N] and "
                   "residual [M, N]");
    } else {
      const int64_t dims[2] = {M, N};
      out = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, 2, static_cast<size_t>(M * N) * sizeof(float), status);
      if (TF_GetCode(status) == TF_OK && M > 0 && N > 0) {
        const Gemm g{static_cast<const float*>(TF_TensorData(x)),
                     static_cast<const float*>(TF_TensorData(w)),
                     static_cast<const float*>(TF_TensorData(b)),
                     r ? static_cast<const float*>(TF_TensorData(r)) : nullptr,
                     static_cast<float*>(TF_TensorData(out)),
                     M,
                     K,
                     N,
                     attrs.w_out_in,
                     attrs.act};
        const Kernels& isa = Isa();
        // Shares: column ranges of whole slivers, and row ranges of whole panels once the columns run short (a
        // share needs a few slivers to amortise packing its rows). Small products stay on one thread.
        const int64_t slivers = (N + isa.nr - 1) / isa.nr, panels = (M + isa.mr - 1) / isa.mr;
        const int64_t threads = 2 * M * N * K < (int64_t{1} << 22) ? 1 : attrs.threads;
        const int64_t tn = std::min<int64_t>(threads, std::max<int64_t>(1, slivers / 4));
        const int64_t tm = std::min<int64_t>(std::max<int64_t>(1, threads / tn), panels);
        std::atomic<bool> no_memory{false};
        Helpers::Get().Run(tn * tm, [&](int64_t share) {
          const int64_t a = share / tn, c = share % tn;
          const int64_t m0 = std::min(M, panels * a / tm * isa.mr), m1 = std::min(M, panels * (a + 1) / tm * isa.mr);
          const int64_t n0 = std::min(N, slivers * c / tn * isa.nr);
          const int64_t n1 = std::min(N, slivers * (c + 1) / tn * isa.nr);
          if (m0 >= m1 || n0 >= n1) return;
          // Packing space, kept per thread between calls (a fresh megabyte each call costs page faults).
          thread_local std::vector<float> scratch;
          try {
            const size_t need = static_cast<size_t>(isa.scratch_floats(n1 - n0));
            if (scratch.size() < need) scratch.resize(need);
          } catch (...) {
            no_memory = true;
            return;
          }
          isa.gemm_block(g, m0, m1, n0, n1, scratch.data());
        });
        if (no_memory) TF_SetStatus(status, TF_RESOURCE_EXHAUSTED, "SbertLinear: out of memory for its scratch");
      }
    }
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  for (TF_Tensor* t : in) TF_DeleteTensor(t);
  TF_DeleteTensor(out);
  TF_DeleteStatus(status);
}

// ---- SbertKernels() → width: int32 scalar, the floats per vector of the kernels in use (16, 8 or 4): what the
// backend report names (AVX-512, AVX2, the baseline) ----

void* KernelsCreate(TF_OpKernelConstruction*) { return nullptr; }
void KernelsDelete(void*) {}
void KernelsCompute(void*, TF_OpKernelContext* ctx) {
  TF_Status* status = TF_NewStatus();
  TF_Tensor* out = TF_AllocateOutput(ctx, 0, TF_INT32, nullptr, 0, sizeof(int32_t), status);
  if (TF_GetCode(status) == TF_OK) *static_cast<int32_t*>(TF_TensorData(out)) = Isa().width;
  else TF_OpKernelContext_Failure(ctx, status);
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
  RegisterOp("SbertLayerNorm", {"x: float", "gamma: float", "beta: float"}, "y: float",
             {"epsilon: float", "threads: int = 1"}, &NormCreate, &NormCompute, &NormDelete);
  const auto linear_attrs = {"transpose_w: bool = false",
                             "activation: {'linear', 'relu', 'gelu', 'gelu_tanh'} = 'linear'", "threads: int = 1"};
  RegisterOp("SbertLinear", {"x: float", "w: float", "bias: float"}, "y: float", linear_attrs, &LinearCreate,
             &LinearCompute, &LinearDelete);
  RegisterOp("SbertKernels", {}, "width: int32", {}, &KernelsCreate, &KernelsCompute, &KernelsDelete);
  RegisterOp("SbertLinearAdd", {"x: float", "w: float", "bias: float", "residual: float"}, "y: float", linear_attrs,
             &LinearCreate, &LinearCompute, &LinearDelete);
}

}  // namespace
