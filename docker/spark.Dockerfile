# syntax=docker/dockerfile:1
# The Spark standalone image (spark-master, spark-worker): Spark 4.3.0 on Python 3.12 and Java 17.
#
# Why not apache/spark: the newest official image we could confirm is
# apache/spark:4.2.0-scala2.13-java17-python3-ubuntu (Ubuntu 22.04, Python 3.10). Our driver runs
# pyspark 4.3.0 (requirements.lock) on Python 3.12 (docker/Dockerfile); executors on Python 3.10
# would be refused by PySpark, and a 4.2 cluster does not take a 4.3 driver. So this image runs
# the very pyspark wheel of the lock (it carries Spark's jars and `spark-class`) on the same
# Python minor as the Airflow image. See docs/docker.md ("Versions").
FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

FROM python:3.12.13-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps tini curl \
    && ln -s "/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" /usr/lib/jvm/java-17 \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17

COPY --from=uv /uv /usr/local/bin/uv
# Only what executors need, at the lock's exact versions (no resolution: --no-deps): Spark itself
# and what pyspark.sql's pandas/Arrow paths import. Same venv path as the Airflow image, because
# executors start the Python that the driver names in PYSPARK_PYTHON.
# The venv's interpreter is the base image's own `python3`, its minor checked (PYTHON_MINOR must
# be the Airflow image's: PySpark refuses workers of another minor than the driver's).
ARG PYTHON_MINOR=3.12
COPY requirements.lock /tmp/requirements.lock
RUN grep -E '^(pyspark|py4j|pandas|pyarrow|numpy|python-dateutil|pytz|tzdata|six)==' /tmp/requirements.lock \
        > /tmp/spark-requirements.txt \
    && test "$(grep -c '^pyspark==' /tmp/spark-requirements.txt)" = 1 \
    && UV_PYTHON_DOWNLOADS=never uv venv --python "$(command -v python3)" /opt/venv \
    && /opt/venv/bin/python -c 'import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(None if v == sys.argv[1] else f"python3 of the base image is {v}, not PYTHON_MINOR={sys.argv[1]}")' "${PYTHON_MINOR}" \
    && uv pip install --no-cache --python /opt/venv/bin/python --no-deps -r /tmp/spark-requirements.txt \
    && rm /tmp/requirements.lock

ENV PATH=/opt/venv/bin:$PATH \
    SPARK_HOME=/opt/venv/lib/python${PYTHON_MINOR}/site-packages/pyspark \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    SPARK_WORKER_DIR=/opt/spark/work \
    SPARK_NO_DAEMONIZE=true

RUN groupadd --system --gid 185 spark \
    && useradd --system --uid 185 --gid spark --home-dir /opt/spark spark \
    && install -d -o spark -g spark /opt/spark /opt/spark/work
USER spark
WORKDIR /opt/spark

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["spark-class", "org.apache.spark.deploy.master.Master"]
