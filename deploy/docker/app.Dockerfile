# The Wharf app server: build once, run the same image on every app host. Node 24 LTS (22 works).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci applies patches/ (postinstall: patch-package) to the dependencies it installs.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/wharf
WORKDIR /app
COPY --from=build /app /app
# DATA_DIR is private to the app (0700): the server keeps its files 0600 inside it.
RUN mkdir -p /var/lib/wharf /srv/wharf/public/assets && chown node:node /var/lib/wharf /srv/wharf/public/assets && chmod 0700 /var/lib/wharf
USER node
EXPOSE 3000
# Publish this build's fingerprinted assets into the volume nginx serves (old ones stay for old pages).
CMD ["sh", "-c", "cp -a dist/public/assets/. /srv/wharf/public/assets/ && exec node dist/src/server.js"]
