# syntax=docker/dockerfile:1
# One image for every service; the command selects it (see package.json start:* scripts):
#   node dist/services/canvas/main.js | dist/services/gateway/main.js | dist/services/web/main.js
# Build and push: docs/operations.md, "Build and push the image".
#
# The base is pinned by exact version. To pin by digest as well (recommended for production),
# resolve it once and append it, e.g. node:20.20.2-bookworm-slim@sha256:<digest>:
#   docker buildx imagetools inspect node:20.20.2-bookworm-slim --format '{{json .Manifest.Digest}}'
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# 1. Build: all dependencies, then the TypeScript services (dist/) and the web app (web/dist).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# 2. Production dependencies only, without install scripts (none of them needs one).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: node, the production node_modules and the built output; no compiler, no npm.
FROM ${NODE_IMAGE} AS runtime
# npm, npx and corepack are not needed to run the services: remove them from the final image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=prod-deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/package.json /app/package-lock.json ./
COPY --from=build --chown=0:0 /app/dist ./dist
COPY --from=build --chown=0:0 /app/web/dist ./web/dist
# The image's `node` user, numerically, so Kubernetes' runAsNonRoot can verify it. The files
# above belong to root, so the process cannot modify its own code.
USER 1000:1000
EXPOSE 3000 3001 3002 3003
# Default service: the web tier (start:web). Kubernetes sets the command for each Deployment.
CMD ["node", "dist/services/web/main.js"]
