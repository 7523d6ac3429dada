# One image for the three services and the operator CLI (entry points: pai, pai-eligibility,
# pai-scheduler, pai-notifier). Runs as the non-root user pai (uid and gid 10001, which
# deploy/k8s and docker-compose.yml name) on a read-only root filesystem: a worker writes
# only to PAI_DATA_DIR (/var/lib/pai, a volume) and /tmp.
FROM python:3.11-slim

RUN groupadd --gid 10001 pai \
 && useradd --uid 10001 --gid 10001 --create-home pai \
 && mkdir -p /var/lib/pai && chown pai:pai /var/lib/pai
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY schemas ./schemas
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER 10001:10001
ENV PAI_DATA_DIR=/var/lib/pai \
    PAI_WEB_BIND=0.0.0.0 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 6066
CMD ["pai", "--help"]
