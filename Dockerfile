# Autopack: the API server (`autopack serve`) and the queue workers (`autopack worker`) in one
# image. Build: docker build -t autopack . ; run with docker-compose.yml (see README,
# "Deployment"). Secrets come in as files (*_FILE variables), never as build arguments.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: Autopack works on a git repository (worktrees, commits, merges) through the git CLI.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# A non-root user owns the data directory and the workspace mount point.
RUN groupadd --system --gid 10001 autopack \
    && useradd --system --uid 10001 --gid autopack --create-home --home-dir /home/autopack \
        --shell /usr/sbin/nologin autopack \
    && mkdir -p /workspace /data \
    && chown autopack:autopack /workspace /data \
    && git config --system --add safe.directory /workspace

WORKDIR /opt/autopack
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-compile . \
    && autopack --version

COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/autopack-entrypoint
COPY --chmod=0644 docker/healthcheck.py /usr/local/bin/autopack-healthcheck.py

ENV AUTOPACK_WORKSPACE=/workspace \
    AUTOPACK_DATA_DIR=/data \
    AUTOPACK_PORT=8000

USER autopack
WORKDIR /workspace
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/bin/autopack-healthcheck.py"]

ENTRYPOINT ["/usr/local/bin/autopack-entrypoint"]
CMD ["autopack", "serve", "--host", "0.0.0.0", "--port", "8000"]
