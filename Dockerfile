# One image for the three services and the operator CLI (entry points: pai, pai-eligibility,
# pai-scheduler, pai-notifier). Runs as a non-root user; state lives under PAI_DATA_DIR.
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 --user-group pai \
 && mkdir -p /var/lib/pai && chown pai:pai /var/lib/pai
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY schemas ./schemas
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER 10001:10001
ENV PAI_DATA_DIR=/var/lib/pai \
    PAI_WEB_BIND=0.0.0.0 \
    PYTHONUNBUFFERED=1
EXPOSE 6066
CMD ["pai", "--help"]
