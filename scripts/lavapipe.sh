#!/usr/bin/env bash
# A software WebGPU adapter for machines without a GPU: Mesa's lavapipe (Vulkan on the CPU, via LLVM),
# unpacked from Debian's bookworm-backports into a temp folder without root and without touching the system.
# Mesa 25 is needed: bookworm's 22.3 lacks shaderUniformBufferArrayDynamicIndexing, which Dawn requires.
# It exists to run the webgpu code paths (tests, kernels) for correctness where no GPU is lent; it is far
# slower than wasm, so `auto` never picks it (software adapters are skipped).
#
#   eval "$(scripts/lavapipe.sh)"          # prints the exports; then:
#   SBERT_TEST_BACKENDS=webgpu npx vitest run test/model
set -euo pipefail
root="${SBERT_LAVAPIPE_DIR:-${TMPDIR:-/tmp}/sbert-lavapipe}"
lib="$root/usr/lib/x86_64-linux-gnu"
icd="$root/lvp_icd.json"
if [ ! -f "$icd" ]; then
  [ "$(uname -m)" = x86_64 ] || { echo "lavapipe.sh: only x86_64 Debian/Ubuntu is scripted" >&2; exit 2; }
  apt="$root/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$root/debs"
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$apt/sources.list"
  echo "deb http://deb.debian.org/debian bookworm main" >> "$apt/sources.list"
  o=(-oDir::Etc::SourceList="$apt/sources.list" -oDir::Etc::SourceParts=/nonexistent -oDir::State::Lists="$apt/lists"
     -oDir::Cache="$apt/cache" -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDebug::NoLocking=1
     -oAcquire::http::Timeout=20 -oAcquire::Retries=1)
  apt-get "${o[@]}" -qq --error-on=any update >&2
  (cd "$root/debs" && apt-get "${o[@]}" -qq download mesa-vulkan-drivers/bookworm-backports libvulkan1 libllvm15 >&2)
  for f in "$root"/debs/*.deb; do dpkg -x "$f" "$root"; done
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s/libvulkan_lvp.so","api_version":"1.4.0"}}\n' "$lib" > "$icd"
fi
echo "export LD_LIBRARY_PATH=$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
echo "export VK_DRIVER_FILES=$icd"
echo "export XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-/tmp}"
