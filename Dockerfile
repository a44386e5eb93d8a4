# syntax=docker/dockerfile:1
# groundwork's image: `docker build -t groundwork .`, or `docker compose up` for the production shape
# (README: "Running the production shape locally"). No secret is baked in: JWT_SECRET, DATA_ENCRYPTION_KEYS,
# DATABASE_URL and the rest come from the environment (or <NAME>_FILE) when the container starts.
# CI has no container engine: .ci/production-install runs these stages' steps in a temporary directory, and
# test/ci/dockerfile.test.ts fails when the two name different files or commands.
# The Node version agrees with .nvmrc and package.json's engines (test/ci/node-versions.test.ts).

FROM node:22.23.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY .swcrc ormconfig.ts ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM node:22.23.3-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The code stays root's and read-only to the process; the image's own unprivileged user runs it.
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--heap-growing-percent=80", "dist/src/main.js"]
