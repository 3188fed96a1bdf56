# The Wharf app server: build once, run the same image on every app host.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/wharf
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /var/lib/wharf /srv/wharf/public/assets && chown node:node /var/lib/wharf /srv/wharf/public/assets
USER node
EXPOSE 3000
# Publish this build's fingerprinted assets into the volume nginx serves (old ones stay for old pages).
CMD ["sh", "-c", "cp -a dist/public/assets/. /srv/wharf/public/assets/ && exec node dist/src/server.js"]
