# Production image of the event platform portal. One image, its roles chosen by command:
#   web        gunicorn portal.wsgi            (default)
#   worker     celery -A portal worker
#   beat       celery -A portal beat
#   router     python manage.py run_router
#   gateway    python manage.py run_gateway
#   aggregator java -jar aggregator.jar     (the aggregation engine, aggregator/, Kafka Streams)
#   mapper     python manage.py run_mapper  (normalizes source events into canonical ones)
#   migrate    python manage.py migrate

# The aggregation engine's jar is build output (never committed): Maven builds it here, with its dependencies,
# and the image below only runs it. The pom is copied first so its dependencies stay a cached layer.
FROM maven:3.9-eclipse-temurin-17 AS aggregator
WORKDIR /build
COPY aggregator/pom.xml ./
RUN mvn -B -q dependency:go-offline
COPY aggregator/src ./src
RUN mvn -B -q package -DskipTests

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
# A Java 17 runtime (no JDK, no Maven) for the aggregator role, and the engine's jar.
COPY --from=eclipse-temurin:17-jre /opt/java/openjdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:$PATH
COPY --from=aggregator /build/target/aggregator.jar ./aggregator/aggregator.jar
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
