# syntax=docker/dockerfile:1
#
# One image, two processes. The default command runs the API; docker-compose.yml
# runs the Temporal worker from the same image with `node --import tsx worker.ts`.
# The TypeScript source runs through tsx (a runtime dependency), so there is no
# build step and no dev dependency in the image.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    TASKD_DATA_DIR=/var/lib/taskd \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# tini runs as PID 1: it forwards SIGTERM to node (which, as PID 1, would ignore
# it) and reaps the orphaned children that workspace process trees leave behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so editing the source reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

COPY . .

# The code stays root-owned and read-only to the service user; only the data
# directory (a volume in docker-compose.yml) is writable.
RUN mkdir -p "$TASKD_DATA_DIR" \
 && chown node:node "$TASKD_DATA_DIR"
USER node

EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "api/server.ts"]
