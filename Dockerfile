# gcmbot: the bot with every adapter; configure it with environment variables (see README).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-cache-dir build \
    && pip install --no-cache-dir . \
    && pybabel compile -D gcmbot -d locales \
    && python -m build --wheel --outdir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 gcmbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER gcmbot
WORKDIR /home/gcmbot
ENV DATABASE_URL=sqlite+aiosqlite:////home/gcmbot/data/gcmbot.sqlite3 \
    MATRIX_STORE_PATH=/home/gcmbot/data/matrix-store
VOLUME ["/home/gcmbot/data"]
ENTRYPOINT ["gcmbot"]
CMD ["run"]
