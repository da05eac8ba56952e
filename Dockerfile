# nats-reactor: the `reactor` CLI (service, agent, tools) on Node 20.
#   docker build -t nats-reactor .
#   docker run --rm nats-reactor --help
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schemas ./schemas
COPY reactors ./reactors
COPY examples ./examples
COPY beacons.yaml ./beacons.yaml
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/reactor && chmod +x /app/dist/src/cli/main.js \
 && mkdir -p /var/lib/nats-reactor && chown node:node /var/lib/nats-reactor
USER node
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
