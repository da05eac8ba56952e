/**
 * A local nats-server with the generated auth (docs/security.md): what `reactor up` runs, and what
 * the secure-deployment tests start. The service key and the bootstrap password are created in the
 * state directory when missing; the users file starts with the service and the bootstrap user, and
 * the service rewrites it (and reloads this server with SIGHUP) as keys are accepted or deleted.
 */
import { join } from "node:path";
import {
  loadOrCreateBootstrapPassword,
  loadOrCreateServiceKey,
  natsAuthConfig,
  writeAtomically,
} from "../keys/index.js";
import { launchNatsServer, type LaunchedServer } from "./nats-launcher.js";
import { loadServiceConfig } from "../config/index.js";
import { ConfigError } from "../core/index.js";
import { bootstrapPasswordFile, natsAuthFromConfig, type NatsAuthSetup } from "./service-security.js";

/** Where things are kept, all under `stateDir` by default. */
export interface SecureNatsOptions {
  readonly stateDir: string;
  /** Default `<stateDir>/service.nk`. */
  readonly serviceKeyFile?: string;
  /** Default `<stateDir>/nats`. */
  readonly storeDir?: string;
  /** Extra server configuration lines (TLS, limits). */
  readonly config?: string;
  /** Tag prefixes agents may send custom events under. */
  readonly customEvents?: readonly string[];
}

/** The running server and what the service and the agents need to use it. */
export interface SecureNats {
  readonly server: LaunchedServer;
  readonly url: string;
  readonly serviceKeyFile: string;
  readonly bootstrapPasswordFile: string;
  readonly usersFile: string;
  /** For startService's `natsAuth`. */
  readonly natsAuth: NatsAuthSetup;
}

/** Writes the first users file and starts the server on it. */
export async function launchSecureNats(o: SecureNatsOptions): Promise<SecureNats> {
  const serviceKeyFile = o.serviceKeyFile ?? join(o.stateDir, "service.nk");
  const bootstrapPasswordFile = join(o.stateDir, "bootstrap.pass");
  const usersFile = join(o.stateDir, "nats-auth.conf");
  const serviceKey = await loadOrCreateServiceKey(serviceKeyFile);
  const bootstrapPassword = await loadOrCreateBootstrapPassword(bootstrapPasswordFile);
  await writeAtomically(
    usersFile,
    natsAuthConfig({ servicePub: serviceKey.publicKey, bootstrapPassword, agents: [] }),
  );
  const server = await launchNatsServer({
    storeDir: o.storeDir ?? join(o.stateDir, "nats"),
    include: usersFile,
    ...(o.config ? { config: o.config } : {}),
  });
  return {
    server,
    url: server.url,
    serviceKeyFile,
    bootstrapPasswordFile,
    usersFile,
    natsAuth: {
      usersFile,
      bootstrapPasswordFile,
      ...(o.customEvents ? { customEvents: o.customEvents } : {}),
      reload: async () => {
        if (server.process.exitCode === null && server.process.signalCode === null)
          server.process.kill("SIGHUP");
      },
    },
  };
}

/**
 * The first users file of a deployment from reactor.yaml (`reactor nats config`): the service key
 * (created when missing), admin keys and the bootstrap user; no agents yet (the service adds them).
 */
export async function natsAuthBootstrapConfig(configPath: string): Promise<string> {
  const config = await loadServiceConfig(configPath);
  const setup = natsAuthFromConfig(config);
  if (!setup) throw new ConfigError({ file: configPath }, "nats.auth is not set: add nats.auth.users_file (docs/security.md)");
  const serviceKey = await loadOrCreateServiceKey(config.keys.service_key);
  const bootstrapPassword = await loadOrCreateBootstrapPassword(bootstrapPasswordFile(setup, config.keys.service_key));
  return natsAuthConfig({
    servicePub: serviceKey.publicKey,
    adminKeys: config.keys.admin_keys,
    bootstrapPassword,
    agents: [],
    ...(setup.customEvents ? { customEvents: setup.customEvents } : {}),
  });
}
