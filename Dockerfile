ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

# Our own virtual environment: works the same on python:*-slim and on a Debian python3 base.
RUN python3 -m venv /opt/whocreated
ENV PATH=/opt/whocreated/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    XDG_STATE_HOME=/var/lib/whocreated

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --quiet '.[postgres]' && rm -rf /src

RUN useradd --system --create-home --home-dir /home/whocreated whocreated \
    && mkdir -p /var/lib/whocreated && chown whocreated /var/lib/whocreated
USER whocreated
WORKDIR /home/whocreated
VOLUME ["/var/lib/whocreated"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["whocreated", "health"]
CMD ["whocreated", "serve"]
