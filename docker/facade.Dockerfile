# syntax=docker/dockerfile:1
# The omnia-facade image: the WebSocket gateway container of an agent pod.
# Build from the repository root:  docker build -f docker/facade.Dockerfile -t omnia-facade .
#
# Stage 1 builds the workspace wheels with uv and installs them, with the exact dependency versions of
# uv.lock (hash-checked), into a virtualenv. Stage 2 copies only that virtualenv onto a slim Python: no uv,
# no compilers, no sources.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY packages/ packages/
RUN uv export --frozen --package omnia-facade --no-default-groups --no-emit-workspace \
        --output-file /tmp/requirements.txt \
    && uv build --package omnia-protos --wheel --out-dir /wheels \

    && uv build --package omnia-facade --wheel --out-dir /wheels \
    && uv venv /opt/omnia \
    && VIRTUAL_ENV=/opt/omnia uv pip install --no-cache --require-hashes -r /tmp/requirements.txt \
    && VIRTUAL_ENV=/opt/omnia uv pip install --no-cache --no-deps /wheels/*.whl

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="omnia-facade" \
      org.opencontainers.image.source="https://github.com/AltairaLabs/omnia" \
      org.opencontainers.image.licenses="Apache-2.0"
# The same non-root uid/gid as the agent pods' security context (65532).
RUN groupadd --system --gid 65532 omnia \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin omnia
COPY --from=builder /opt/omnia /opt/omnia
ENV PATH=/opt/omnia/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMNIA_LOG_FORMAT=json
USER 65532:65532
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(\"http://127.0.0.1:\" + os.environ.get(\"OMNIA_HEALTH_PORT\", \"8081\") + \"/healthz\", timeout=4)"]
ENTRYPOINT ["omnia-facade", "serve"]
