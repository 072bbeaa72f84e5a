# syntax=docker/dockerfile:1
# One image for every AIOS service, the Triton server and the `aios` command line; docker-compose.yml
# chooses what each container runs (`python -m services.<name>`, `aios topics apply`, ...).
#
#   docker build -t aios:0.1.0 .
#
# torch comes from PyTorch's CPU wheel index: the PyPI wheel would add several GB of CUDA libraries
# that a CPU host never loads. For GPU hosts build with
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126   (any CUDA index of that torch version)
# and give the triton (or classify) container a GPU; AIOS_MODEL_DEVICE=auto then picks CUDA.

ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm

# --- build: a virtual environment with the package and its `ml` extra, copied whole into the runtime stage.
FROM ${PYTHON_IMAGE} AS build
ARG TORCH_VERSION=2.15.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/aios
ENV PATH=/opt/aios/bin:$PATH
# torch first, from the chosen index: the `ml` extra's `torch>=2.3` is then already satisfied.
RUN pip install --index-url "$TORCH_INDEX_URL" "torch==$TORCH_VERSION"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
RUN pip install ".[ml]" && pip check

# --- runtime: the same Python, the environment, and the files the code reads from AIOS_HOME.
FROM ${PYTHON_IMAGE} AS runtime
# curl: the containers' health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 aios \
    && useradd --system --uid 10001 --gid aios --create-home --home-dir /home/aios aios \
    && install -d -o aios -g aios /var/lib/aios /var/lib/aios/models /var/lib/aios/faust \
    && install -d -m 700 -o aios -g aios /var/lib/aios/keys
COPY --from=build /opt/aios /opt/aios
WORKDIR /app
# Read at run time through aios.paths.project_root() (AIOS_HOME): topic catalogue, schemas, service
# catalogue, Prometheus and Grafana files, CLINC150 (aios model train-default), demo KB and policy.
COPY schemas ./schemas
COPY infra ./infra
COPY data ./data
COPY policies ./policies
# Bind addresses: in a container every endpoint must be reachable from the others. State lives in
# /var/lib/aios (a volume for models), never under the read-only /app.
ENV PATH=/opt/aios/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AIOS_HOME=/app \
    AIOS_MODEL_ARTIFACT_DIR=/var/lib/aios/models \
    AIOS_DECIDE_DATA_DIR=/var/lib/aios/faust \
    AIOS_KEYS_DIR=/var/lib/aios/keys \
    AIOS_INGEST_HOST=0.0.0.0 \
    AIOS_REVIEW_HOST=0.0.0.0 \
    AIOS_AUDIT_HOST=0.0.0.0 \
    AIOS_INFER_HOST=0.0.0.0 \
    AIOS_TRITON_HOST=0.0.0.0 \
    AIOS_METRICS_HOST=0.0.0.0
USER aios
STOPSIGNAL SIGTERM
CMD ["aios", "--help"]
