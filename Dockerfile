# Images of the DDT Discord bot and its inference server. Targets:
#   docker build --target bot            -t ddt-bot .
#   docker build --target inference      -t ddt-inference .        (CPU)
#   docker build --target inference-cuda -t ddt-inference-cuda .   (CUDA 12 / cuDNN 9, needs the NVIDIA runtime)
# The TypeScript sources run through tsx (a runtime dependency), so there is no compile step.
# Every COPYed path and every script run here is checked by test/docker/dockerfile.test.ts.

# --- npm dependencies, without dev dependencies; onnxruntime-node's CPU build ships in its npm package ---
FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- the same with the CUDA 12 execution provider of onnxruntime-node (its install script downloads it) ---
FROM node:20-bookworm-slim AS deps-cuda
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- the bot: no model, no ONNX Runtime work; talks to the inference servers over gRPC ---
FROM node:20-bookworm-slim AS bot
ENV NODE_ENV=production \
    BOT_DB_PATH=/app/.bot-state/bot.sqlite
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node proto ./proto
COPY --chown=node:node bot ./bot
# The preflight check uses the inference client (never the runtime) to wait for a serving server.
COPY --chown=node:node inference/config.ts ./inference/
COPY --chown=node:node inference/client ./inference/client
COPY --chown=node:node inference/protocol ./inference/protocol
COPY --chown=node:node scripts/bot-preflight.ts ./scripts/
COPY --chown=node:node scripts/start ./scripts/start
RUN mkdir -p /app/.bot-state && chown node:node /app/.bot-state
USER node
VOLUME ["/app/.bot-state"]
# Fails fast on a bad configuration (missing DISCORD_TOKEN, no inference server serving), then runs the bot.
CMD ["sh", "-c", "node --import tsx scripts/bot-preflight.ts --wait \"${PREFLIGHT_WAIT_S:-120}\" && exec node --import tsx bot/main.ts"]

# --- the inference server on CPU, with the bundled model package ---
FROM node:20-bookworm-slim AS inference
ENV NODE_ENV=production \
    INFERENCE_LISTEN=0.0.0.0:50051 \
    METRICS_LISTEN=0.0.0.0:9464 \
    MODELS_DIR=/app/models \
    EXECUTION_PROVIDER=cpu
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node proto ./proto
COPY --chown=node:node inference ./inference
COPY --chown=node:node models ./models
COPY --chown=node:node scripts/healthcheck.ts ./scripts/
COPY --chown=node:node scripts/start ./scripts/start
USER node
EXPOSE 50051 9464
# Healthy once ddt.v1.Inference is SERVING (models loaded and warmed); the retries cover start-up
# (dockerfilelint 1.8 misreads --start-period, so it is not used).
HEALTHCHECK --interval=15s --timeout=10s --retries=10 \
  CMD ["node", "--import", "tsx", "scripts/healthcheck.ts"]
# Exits 1 with the file and the problem named when a model package is missing or invalid.
CMD ["node", "--import", "tsx", "inference/main.ts"]

# --- the inference server on an NVIDIA GPU: CUDA 12 + cuDNN 9 runtime, Node copied from the slim image ---
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS inference-cuda
COPY --from=deps-cuda /usr/local/bin/node /usr/local/bin/node
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin app
ENV NODE_ENV=production \
    INFERENCE_LISTEN=0.0.0.0:50051 \
    METRICS_LISTEN=0.0.0.0:9464 \
    MODELS_DIR=/app/models \
    EXECUTION_PROVIDER=cuda
WORKDIR /app
COPY --from=deps-cuda --chown=app:app /app/node_modules ./node_modules
COPY --chown=app:app package.json tsconfig.json ./
COPY --chown=app:app proto ./proto
COPY --chown=app:app inference ./inference
COPY --chown=app:app models ./models
COPY --chown=app:app scripts/healthcheck.ts ./scripts/
COPY --chown=app:app scripts/start ./scripts/start
USER app
EXPOSE 50051 9464
# Healthy once SERVING; loading onto the GPU may take longer than on CPU.
HEALTHCHECK --interval=15s --timeout=10s --retries=15 \
  CMD ["node", "--import", "tsx", "scripts/healthcheck.ts"]
CMD ["node", "--import", "tsx", "inference/main.ts"]
