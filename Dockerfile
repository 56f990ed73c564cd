# syntax=docker/dockerfile:1
# The token service image: build with dev dependencies, run with production ones only.
# Credentials are given at run time (docker run -e APP_ID -e APP_CERTIFICATE, or a Kubernetes
# Secret), never here: nothing in this file or the build context holds them.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
COPY scripts ./scripts
COPY playground ./playground
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The official Node images ship this unprivileged user (uid 1000).
USER node
ENV PORT=8080
EXPOSE 8080
# Slim images have no curl: ask /healthz with Node's own fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.SERVER_PORT||process.env.PORT||8080}/healthz`).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Not "npm start": its prestart would rebuild with tsc, a dev dependency absent here.
CMD ["node", "dist/src/main.js"]
