/**
 * The same NATS server as a container, through testcontainers, for machines with a Docker engine.
 * The binary (nats-server.ts) is the default and what CI runs; this path exists for developers on
 * machines without nats-server but with Docker.
 */
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** Why containers cannot be used here, or undefined when a Docker engine answers. */
export function dockerUnavailableReason(): string | undefined {
  const socket = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
  if (!process.env.DOCKER_HOST && !existsSync(socket)) return `no Docker engine: ${socket} does not exist`;
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8", timeout: 5000 });
  if (info.status !== 0) return `no Docker engine answers \`docker info\`: ${(info.stderr || info.error?.message || "").trim().split("\n")[0]}`;
  return undefined;
}

/** Starts `nats:2.10-alpine -js` in a container; returns its URL and a stop function. */
export async function startNatsContainer(): Promise<{ url: string; stop(): Promise<void> }> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer("nats:2.10-alpine")
    .withCommand(["-js"])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    stop: async () => {
      await container.stop();
    },
  };
}
