# CUDA build of vlsm-serve against LibTorch 2.x (the PyTorch wheel's LibTorch,
# built with the C++11 ABI from 2.7 on, so it links with the distro's Abseil).
#   docker build -t vlsm-serve .
#   docker run --gpus all vlsm-serve vlsm-bench engine --device cuda --dtype bfloat16 --batch 8
FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-devel AS build

RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git \
      libabsl-dev nlohmann-json3-dev libssl-dev libgtest-dev libgmock-dev \
      libicu-dev libre2-dev zlib1g-dev \
      libopencv-core-dev libopencv-imgcodecs-dev libopencv-imgproc-dev \
      libdcmtk-dev libopenjp2-7-dev \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler dpkg-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
# Debian/Ubuntu's sentencepiece bundles an old protobuf: rebuild it from source.
RUN bash deploy/build-sentencepiece.sh
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$(python -c 'import torch; print(torch.utils.cmake_prefix_path)')" \
    && cmake --build build -j "$(nproc)"

FROM pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20210324 libssl3 libicu70 libre2-9 libopencv-core4.5d libopencv-imgcodecs4.5d \
      libopencv-imgproc4.5d libdcmtk16 libopenjp2-7 libgrpc++1 libprotobuf-lite23 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/ /usr/local/bin/
# The embedded default model, where the binaries look for it (bin/../share/...).
COPY model/default/ /usr/local/share/vlsm-serve/default-model/
ENV LD_LIBRARY_PATH=/opt/conda/lib/python3.11/site-packages/torch/lib
ENTRYPOINT []
CMD ["vlsm-bench", "engine", "--device", "cuda", "--batch", "8"]
