#!/usr/bin/env bash
# CMake flags for building llama-cpp-python on this CPU: the instruction sets it has, without
# AMX. A native build (-march=native) turns on AMX tiles on CPUs that have them, and llama.cpp's
# AMX path crashes (segmentation fault in the first decode) inside sandboxes and VMs that do not
# grant AMX tile state. Listing the flags also keeps a build on one machine from using
# instructions another machine lacks only if both have the same flags.
set -euo pipefail
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
args="-DGGML_NATIVE=OFF"
has avx && args+=" -DGGML_AVX=ON"
has avx2 && args+=" -DGGML_AVX2=ON"
has fma && args+=" -DGGML_FMA=ON"
has f16c && args+=" -DGGML_F16C=ON"
has bmi2 && args+=" -DGGML_BMI2=ON"
has avx_vnni && args+=" -DGGML_AVX_VNNI=ON"
if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
  args+=" -DGGML_AVX512=ON"
  has avx512vbmi && args+=" -DGGML_AVX512_VBMI=ON"
  has avx512_vnni && args+=" -DGGML_AVX512_VNNI=ON"
  has avx512_bf16 && args+=" -DGGML_AVX512_BF16=ON"
fi
echo "$args"
