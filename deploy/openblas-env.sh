# Sourced by the deploy scripts. Debian's OpenBLAS 0.3.21 falls back to its
# SSE3 kernels on CPUs newer than it knows; name the widest kernel set this
# CPU has, unless the caller chose one (see README, "CPU products").
if [[ -z ${OPENBLAS_CORETYPE:-} ]]; then
  cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  if [[ $cpu_flags =~ avx512f && $cpu_flags =~ avx512bw && $cpu_flags =~ avx512vl &&
        $cpu_flags =~ avx512dq ]]; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif [[ $cpu_flags =~ avx2 && $cpu_flags =~ fma ]]; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
