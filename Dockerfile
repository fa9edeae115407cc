# One image for every Parley service (compose.yaml picks the binary).
FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends gcc make libc6-dev libfcgi-dev libpq-dev \
        libjansson-dev libsodium-dev libssl-dev libcurl4-openssl-dev kore \
        libmagic-dev libvips-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY shared shared
COPY services services
# The route tables are generated from the API description at build time.
COPY docs/openapi.json docs/openapi.json
COPY scripts/routegen.c scripts/routegen.c
RUN make build

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends libfcgi0ldbl libpq5 libjansson4 libsodium23 libssl3 libcurl4 kore \
        libmagic1 libmagic-mgc libvips42 postgresql-client-15 && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 parley \
    && useradd --system --uid 10001 --gid parley --home /parley parley \
    && install -d -o parley -g parley -m 0750 /parley/uploads
WORKDIR /parley
COPY --from=build /src/build/release/bin/ /parley/bin/
COPY --from=build /src/build/release/lib/ /parley/lib/
COPY sql sql
COPY scripts scripts
USER parley
ENV PARLEY_LISTEN=:9000 PARLEY_VAR=/tmp/parley
EXPOSE 9000
