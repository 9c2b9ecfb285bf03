# Production image of the event platform portal. One image, four roles, chosen by command:
#   web     gunicorn portal.wsgi            (default)
#   worker  celery -A portal worker
#   beat    celery -A portal beat
#   router  python manage.py run_router
#   migrate python manage.py migrate
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY manage.py ./
COPY portal ./portal
COPY onboarding ./onboarding
COPY templates ./templates
COPY static ./static
COPY scripts/entrypoint ./scripts/entrypoint
# The gateway's gRPC stubs are build output (never committed): generated here from gateway.proto
RUN python -m onboarding.gateway.proto.build --force

# collectstatic needs settings; these build-time values never reach a running container.
RUN DJANGO_SECRET_KEY=build-only-build-only-build-only-build-only \
    DJANGO_ALLOWED_HOSTS=build DATABASE_URL=postgres://build:build@build:5432/build \
    REDIS_URL=redis://build:6379/0 KAFKA_BOOTSTRAP_SERVERS=build:9092 SCHEMA_REGISTRY_URL=http://build:8081 \
    DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin portal
USER 10001
ENV DJANGO_STATIC_ROOT=/app/staticfiles \
    LOG_FORMAT=json
EXPOSE 8000
ENTRYPOINT ["/app/scripts/entrypoint"]
CMD ["web"]
