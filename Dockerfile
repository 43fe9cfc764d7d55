# kubenexus: both binaries in one image.
#   docker build -t kubenexus/kubenexus:0.1.0 .
# Build stage: the same commands as the README.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j"$(nproc)" \
    && strip build/bin/kubenexus-webhook build/bin/kubenexus-scheduler

# Runtime stage: only the shared libraries the binaries link.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libssl3 libh2o-evloop0.13 libyajl2 libcurl4 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 kubenexus \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin kubenexus
COPY --from=build /src/build/bin/kubenexus-webhook /src/build/bin/kubenexus-scheduler /usr/local/bin/
USER 65532:65532
EXPOSE 8443 8080
ENTRYPOINT ["/usr/local/bin/kubenexus-scheduler"]
