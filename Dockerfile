ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

# tini as PID 1 hands SIGTERM to whocreated and reaps children: without it Python is PID 1, which
# the kernel spares default signal actions, and a stop waits out the grace period for a SIGKILL.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

# Our own virtual environment: works the same on python:*-slim and on a Debian python3 base.
RUN python3 -m venv /opt/whocreated
ENV PATH=/opt/whocreated/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XDG_STATE_HOME=/var/lib/whocreated

# Dependencies in their own layer, every version pinned by constraints.txt (the postgres and demo
# extras and the build backend included): a change to the sources reuses this layer.
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir --quiet --no-deps -r /tmp/constraints.txt && rm /tmp/constraints.txt

# The sources last; `pip check` proves the pinned set is whole.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --quiet --no-deps --no-build-isolation . \
    && pip check \
    && rm -rf /src

# A numeric user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 whocreated \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/whocreated \
       --shell /usr/sbin/nologin whocreated \
    && mkdir -p /var/lib/whocreated \
    && chown 10001:10001 /var/lib/whocreated \
    && mkdir -p /app
USER 10001:10001
# A policy file mounted at /app/whocreated.toml is read from here (or set WHOCREATED_CONFIG).
WORKDIR /app
VOLUME ["/var/lib/whocreated"]
EXPOSE 3000
STOPSIGNAL SIGTERM

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["whocreated", "health"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["whocreated", "serve"]
