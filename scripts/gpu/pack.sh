#!/usr/bin/env bash
# Packs what the lent GPU machine needs (it has no Node and no network; see ../shared/GPU.md) into .device/
# (git-ignored): node.xz, the Vulkan loader .debs, and bundle.tar.xz = trimmed node_modules + dist + a subset
# of the fixtures (not the CPU-only backends and tools: tfjs-node, the tfjs union package, biome, ...; ≈ 55 MB in
# all, under the device call's 64 MiB). Run after `npm run build`. The device command is scripts/gpu/device-run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .device
[ -f .device/node.xz ] || xz -T2 -6 -c "$(readlink -f "$(which node)")" > .device/node.xz
if ! ls .device/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update >/dev/null
  (cd .device && apt-get $o download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libgles2 libopengl0)
fi
shared=${SBERT_FIXTURES:-../shared/fixtures}/..
stage=$(mktemp -d)
mkdir -p "$stage/shared/fixtures" "$stage/shared/corpus"
cp -r "$shared/fixtures/tiny" "$shared/fixtures/base" "$shared/fixtures/activations" "$shared/fixtures/README.md" "$stage/shared/fixtures/"
rm -rf "$stage/shared/fixtures/tiny/"{uer,legacy,zip-prefixed,uer-converted}
cp "$shared/corpus/sts-b.test.tsv" "$stage/shared/corpus/"
tar -cJf .device/bundle.tar.xz \
  --exclude='*.map' --exclude='*.min.js' --exclude='*.es2017.js' --exclude='*.esm.js' --exclude='*.fesm.js' \
  --exclude='*.d.ts' --exclude='*.md' \
  --exclude='node_modules/typescript' --exclude='node_modules/@typescript' --exclude='node_modules/@napi-rs' \
  --exclude='node_modules/@embedpdf' --exclude='node_modules/fast-check' --exclude='node_modules/benny' \
  --exclude='node_modules/webgpu/dist/darwin-universal' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' --exclude='node_modules/@tensorflow/*/src' \
  --exclude='node_modules/@tensorflow/tfjs-core/dist/*/' \
  --exclude='node_modules/@tensorflow/tfjs-node' --exclude='node_modules/@tensorflow/tfjs' \
  --exclude='node_modules/@tensorflow/tfjs-layers' --exclude='node_modules/@tensorflow/tfjs-converter' \
  --exclude='node_modules/@tensorflow/tfjs-data' --exclude='node_modules/@tensorflow/tfjs-backend-webgl' \
  --exclude='node_modules/@biomejs' --exclude='node_modules/openai' --exclude='node_modules/core-js' \
  --exclude='node_modules/playwright-core' --exclude='node_modules/@swc' --exclude='node_modules/wabt' \
  --exclude='node_modules/@esbuild' --exclude='node_modules/esbuild' --exclude='node_modules/*/test' \
  node_modules dist bin package.json -C "$stage" shared
rm -rf "$stage"
ls -la .device
