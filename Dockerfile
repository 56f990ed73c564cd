# syntax=docker/dockerfile:1
# The token service image: build with dev dependencies, run with production ones only.
# Credentials are given at run time (docker run -e APP_ID -e APP_CERTIFICATE, or a Kubernetes
# Secret), never here: nothing in this file or the build context holds them.

# Node 26: the Active LTS (security fixes until April 2029); .ci/run tests this major. See README.
ARG NODE_IMAGE=node:26-trixie-slim

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
# Slim images have no curl: a script asks /healthz with Node's fetch, on the address and port it
# reads from HOST, SERVER_PORT and PORT as the service does (a loopback address for 0.0.0.0 or ::).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
# Not "npm start": its prestart would rebuild with tsc, a dev dependency absent here.
CMD ["node", "dist/src/main.js"]
