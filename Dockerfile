# Gatehouse container image (SPEC §10).
#
#   docker build -t gatehouse .
#   docker run --read-only --tmpfs /tmp --tmpfs /app/.next/cache -p 3000:3000 -p 3001:3001 \
#     -e INGRESS=https://app.example.com -e OIDC_ISSUER=… -e OIDC_CLIENT_ID=… -e OIDC_CLIENT_SECRET=… \
#     -e SESSION_SECRET=… -e UPSTREAMS=/api=http://api:8080 gatehouse
# (podman: `--tmpfs /app/.next/cache:U`, its tmpfs is root-owned 0755 otherwise.)
#
# Without a registry (air-gapped builds, this project's CI): build a local base image with
# scripts/make-base-image.sh and pass it as BASE_IMAGE. Any Debian-like image with `node` and `npm`
# on PATH works; the runtime stage needs a shell only for its one `mkdir`.
ARG BASE_IMAGE=node:24-slim

# ---- build: all dependencies, `next build` and the compiled server (dist/server.js) ----
FROM ${BASE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
# The lockfile alone decides the dependency layer, so a source change does not reinstall.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Next's build cache is of no use at run time and would only make the image bigger.
RUN npm run build && rm -rf .next/cache

# ---- deps: production dependencies only (`npm ci --omit=dev`), in a stage of their own so the
# layer is reused until the lockfile changes ----
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing in the production set needs one, and none runs where the image is made.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# ---- runtime: the build output and production dependencies, nothing else ----
FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
# Listen on every interface inside the pod, metrics too (the default outside a container is
# loopback only). HOME points at the writable /tmp: nothing should write there, but a library that
# does must not fail on a read-only root.
ENV NODE_ENV=production \
    PORT=3000 \
    HOSTNAME=0.0.0.0 \
    METRICS_ADDRESS=0.0.0.0:3001 \
    NEXT_TELEMETRY_DISABLED=1 \
    HOME=/tmp
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/package-lock.json /app/next.config.ts ./
COPY --from=build /app/.next ./.next
COPY --from=build /app/dist ./dist
# Metadata last: a new revision changes no layer above. The arguments come before the one RUN
# below because podman (buildah) keys a cached LABEL by its unexpanded text: only a RUN's cache key
# holds the arguments' values, so without this a build at a new commit that changed nothing in the
# image would keep the previous commit's revision label.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG BASE_IMAGE
ARG CREATED=unknown
# App files stay root-owned (the process cannot change its own code); only Next's cache directory
# belongs to the app user. With a read-only root file system mount a volume there (and on /tmp).
RUN mkdir -p .next/cache && chown 10001:10001 .next/cache
LABEL org.opencontainers.image.title="Gatehouse" \
      org.opencontainers.image.description="OpenID Connect login proxy (backend-for-frontend) in front of web apps and APIs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
# Numeric, so Kubernetes' runAsNonRoot can verify it without an /etc/passwd entry.
USER 10001:10001
EXPOSE 3000 3001
# Liveness without curl: Node's fetch against /oauth2/ping under the first ingress path.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const i=(process.env.INGRESS||'').split(',')[0].trim();let p=i?new URL(i).pathname:'/';if(!p.endsWith('/'))p+='/';fetch('http://127.0.0.1:'+(process.env.PORT||3000)+p+'oauth2/ping',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server.js"]
