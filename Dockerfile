# The airspin image: worker, ingester and CLI (used by docker-compose.yml).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY airspin airspin
COPY agents agents
COPY topics topics
COPY storage storage
COPY detection detection
COPY ingest ingest
COPY synth synth
COPY scripts scripts
RUN pip install --no-cache-dir .
# Inside a container the web server must listen beyond loopback to be published.
ENV AIRSPIN_WEB_HOST=0.0.0.0
ENTRYPOINT ["airspin"]
CMD ["worker", "-l", "info"]
