#!/usr/bin/env bash
# Runs on the lent GPU machine (no Node, no network; ../shared/GPU.md), from the repo root, after
# scripts/gpu/pack.sh filled .device/ (pass it with the device tool's carry: [".device"]):
#   1. Node, the packages and the fixtures unpacked; the backend `auto` picks
#   2. the GPU benchmark: STS-B test encode at batch 32 and 128 with tfjs's and the tiled matmul, PyTorch (CUDA)
#      on the same batches
#   3. where a forward's time goes: GPU kernel time by kernel (timestamp queries), kernels per forward, wall
#      time, the matmuls-alone ceiling (bench/forward.ts), with each matmul
#   4. the Linear-shape matmul benchmark (tfjs-webgpu vs src/backend/webgpu/linear.ts, each tile), GFLOP/s
#   5. the model's fixture tests on the GPU backend (vitest, SBERT_TEST_BACKENDS), with each matmul
#   6. `sbert compare` on every fixture reference (tiny, activations, fp16/bf16, synthetic BERT-base)
#   bench-dawn (named only): step 2 again under Dawn flags (SBERT_GPU_DAWN_FLAGS), PyTorch's figures reused
# Each step writes its output under $OUT; a failing step does not stop the others.
# Locally (to rehearse): SBERT_GPU_BACKEND=wasm OUT=/tmp/gpu-out bash scripts/gpu/device-run.sh, or on webgpu
# over lavapipe: eval "$(scripts/lavapipe.sh)"; SBERT_GPU_SENTENCES=24 SBERT_GPU_MATMUL_ARGS="--rows 128
# --square 0 --reps 1" OUT=/tmp/gpu-out bash scripts/gpu/device-run.sh setup bench matmul tests
# Extra arguments: SBERT_GPU_BENCH_ARGS (bench/gpu.ts, e.g. "--matmul tiled --submit-batch 15,64"),
# SBERT_GPU_MATMUL_ARGS (gpu-matmul.js), SBERT_GPU_PROFILE_MATMULS (default "tfjs tiled").
set -u
FINAL=${OUT:-/tmp/gpu-out}
OUT=/tmp/gpu-work  # everything lands here; $FINAL gets steps.log, bench.md and one .tgz (the device tool returns few files)
BACKEND=${SBERT_GPU_BACKEND:-webgpu}
STEPS=${*:-setup bench profile matmul tests compare}
B=/tmp/sbert-bundle
mkdir -p "$OUT" "$B"
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/steps.log"; }
# After every step, so a call cut off by its time limit still returns what the finished steps measured.
publish() {
  mkdir -p "$FINAL" && cp "$OUT/steps.log" "$OUT/bench.md" "$OUT/profile.md" "$OUT/gpu-matmul.md" "$FINAL/" 2>/dev/null
  tar -czf "$FINAL/gpu-results.tgz" -C "$OUT" --exclude gpu-cases.json .
}

if ! command -v node >/dev/null || [ -n "${SBERT_GPU_FORCE_NODE:-}" ]; then
  mkdir -p /tmp/nodebin && xz -dc .device/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
  export PATH=/tmp/nodebin:$PATH
  for f in .device/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json} XDG_RUNTIME_DIR=/tmp
[ -d "$B/node_modules" ] || tar -xJf .device/bundle.tar.xz -C "$B"
[ -e node_modules ] || ln -s "$B/node_modules" node_modules
[ -d dist ] || cp -r "$B/dist" dist
export SBERT_FIXTURES=$B/shared/fixtures SBERT_PROGRESS=0
F=$SBERT_FIXTURES
sbert() { node bin/sbert.js "$@"; }

for step in $STEPS; do
  case $step in
  setup)
    log "setup: node $(node -v)"
    (nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv) > "$OUT/gpu.txt" 2>&1
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' >> "$OUT/gpu.txt" 2>&1
    echo 那个人很开心 | timeout 120 node bin/sbert.js encode --model "$F/tiny/st" --backend auto > /dev/null 2> "$OUT/auto.txt"
    log "auto: $(cat "$OUT/auto.txt")"
    [ -f /tmp/base/model.safetensors ] || { sbert synth --config "$F/base/hf/config.json" --out /tmp/base && cp "$F/base/hf/"tokenizer* /tmp/base/; }
    ;;
  tests)
    log "tests on $BACKEND"
    # (not the layouts and XLM-R tests, whose checkpoint folders the bundle leaves out, the backend-free batching
    # one, nor the BLAS one, which rebuilds the wasm module with tools the bundle leaves out)
    NO_COLOR=1 SBERT_TEST_BACKENDS=$BACKEND SBERT_WEBGPU_MATMUL=tfjs timeout 240 node node_modules/vitest/vitest.mjs run test/model test/backend \
      --exclude test/model/layouts.test.ts --exclude test/model/batching.test.ts --exclude test/model/xlmr.test.ts \
      --exclude test/backend/blas.test.ts > "$OUT/vitest-$BACKEND.txt" 2>&1
    log "tests exit $? ($(grep -E 'Tests +[0-9]' "$OUT/vitest-$BACKEND.txt" | tail -1))"
    NO_COLOR=1 SBERT_TEST_BACKENDS=$BACKEND SBERT_WEBGPU_MATMUL=tiled timeout 180 node node_modules/vitest/vitest.mjs run test/model \
      --exclude test/model/layouts.test.ts --exclude test/model/batching.test.ts --exclude test/model/xlmr.test.ts \
      > "$OUT/vitest-$BACKEND-tiled.txt" 2>&1
    log "tests (tiled matmul) exit $? ($(grep -E 'Tests +[0-9]' "$OUT/vitest-$BACKEND-tiled.txt" | tail -1))"
    ;;
  profile)
    for m in ${SBERT_GPU_PROFILE_MATMULS:-tfjs tiled}; do
      SBERT_WEBGPU_MATMUL=$m timeout 120 node dist/bench/forward.js --backend "$BACKEND" \
        --sentences "${SBERT_GPU_PROFILE_SENTENCES:-512}" --batch-size 128 --runs 2 > "$OUT/profile-$m.txt" 2>&1
      log "profile on $BACKEND, $m matmul: exit $?"
      { echo "## $m matmul"; echo '```'; grep -v -E 'Warning|artificially' "$OUT/profile-$m.txt"; echo '```'; } >> "$OUT/profile.md"
    done
    ;;
  matmul)
    log "matmul on $BACKEND"
    # shellcheck disable=SC2086  # (rehearsing on lavapipe: SBERT_GPU_MATMUL_ARGS="--rows 128 --square 0 --reps 1")
    timeout 150 node dist/bench/gpu-matmul.js --backend "$BACKEND" --out "$OUT" ${SBERT_GPU_MATMUL_ARGS:-} > "$OUT/matmul-stdout.txt" 2> "$OUT/matmul.err"
    log "matmul exit $?"
    ;;
  compare)
    while read -r name model ref; do
      timeout 60 node bin/sbert.js compare --backend "$BACKEND" --model "$model" --reference "$ref" --json > "$OUT/compare-$name.json" 2> "$OUT/compare-$name.err"
      log "compare $name exit $? $(head -c 300 "$OUT/compare-$name.err")"
    done <<LIST
tiny $F/tiny/hf $F/tiny/refs.safetensors
tiny-long $F/tiny/hf $F/tiny/refs_long.safetensors
tiny-fp16 $F/tiny/fp16 $F/tiny/refs.safetensors
tiny-bf16 $F/tiny/bf16 $F/tiny/refs.safetensors
gelu_new $F/activations/gelu_new/hf $F/activations/gelu_new/refs.safetensors
gelu_pytorch_tanh $F/activations/gelu_pytorch_tanh/hf $F/activations/gelu_pytorch_tanh/refs.safetensors
relu $F/activations/relu/hf $F/activations/relu/refs.safetensors
base /tmp/base $F/base/refs.safetensors
base-long /tmp/base $F/base/refs_long.safetensors
LIST
    ;;
  bench-dawn)
    # The same encode under Dawn flags (SBERT_GPU_DAWN_FLAGS, default: no validation, no bounds checks), in a process
    # of its own (Dawn reads them when the device is made); PyTorch's figures and vectors from the bench step's run.
    flags=${SBERT_GPU_DAWN_FLAGS:-enable-dawn-features=skip_validation,disable_robustness}
    log "bench on $BACKEND under $flags"
    SBERT_WEBGPU_DAWN_FLAGS=$flags timeout 300 node dist/bench/gpu.js --backend "$BACKEND" --model /tmp/base --out "$OUT" \
      --torch-json "$OUT/torch.json" --label dawn-flags ${SBERT_GPU_SENTENCES:+--sentences $SBERT_GPU_SENTENCES} \
      ${SBERT_GPU_BENCH_ARGS:-} > "$OUT/bench-dawn-stdout.txt" 2> "$OUT/bench-dawn.err"
    log "bench under Dawn flags exit $?"
    cat "$OUT/gpu-table-dawn-flags.md" >> "$OUT/bench.md" 2>/dev/null
    ;;
  bench)
    log "bench on $BACKEND"
    timeout 420 node dist/bench/gpu.js --backend "$BACKEND" --model /tmp/base --out "$OUT" --python "${SBERT_GPU_PYTHON:-python3}" \
      ${SBERT_GPU_SENTENCES:+--sentences $SBERT_GPU_SENTENCES} ${SBERT_GPU_BENCH_ARGS:-} > "$OUT/bench-stdout.txt" 2> "$OUT/bench.err"
    log "bench exit $?; Dawn errors on stdout: $(grep -c -E 'validation|out of memory' "$OUT/bench-stdout.txt")"
    cp "$OUT/gpu-table.md" "$OUT/bench.md" 2>/dev/null
    ;;
  esac
  publish
done
ls -la "$OUT" >> "$OUT/steps.log"
publish
