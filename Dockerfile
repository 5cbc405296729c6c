# gcmbot: the bot with every adapter; configure it with environment variables (see README,
# "Deployment"). Build: docker build -t gcmbot .   Run: docker compose up -d (compose.yaml)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-cache-dir build Babel \
    && pybabel compile -D gcmbot -d locales \
    && python -m build --wheel --outdir /wheels .

FROM python:3.11-slim
# pg_dump and pg_restore for `gcmbot backup` / `gcmbot restore` on PostgreSQL
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
# the bot runs as this user; its data directory (SQLite, the Matrix store) exists and is its own,
# so a new named volume mounted there inherits the ownership
RUN useradd --create-home --uid 10001 gcmbot \
    && mkdir -p /home/gcmbot/data \
    && chown gcmbot:gcmbot /home/gcmbot/data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER gcmbot
WORKDIR /home/gcmbot
ENV DATABASE_URL=sqlite+aiosqlite:////home/gcmbot/data/gcmbot.sqlite3 \
    MATRIX_STORE_PATH=/home/gcmbot/data/matrix-store \
    HEALTH_PORT=8080 \
    PYTHONUNBUFFERED=1
VOLUME ["/home/gcmbot/data"]
# 8443: Telegram webhook (TELEGRAM_WEBHOOK_URL); 8080: /healthz, /readyz, /metrics
EXPOSE 8443 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEALTH_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["gcmbot"]
CMD ["run"]
