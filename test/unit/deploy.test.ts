/**
 * Deployment files: docker-compose.yml, Dockerfile, the systemd units and the cluster configs.
 * No Docker engine or systemd runs here, so these are syntax and coherence checks only: the
 * compose file parses and its services, image and commands fit together and name files that
 * exist; the Dockerfile uses known instructions; the units have their sections and start the
 * right command. (The cluster configs are also checked by `nats-server -t` when it is on PATH.)
 */
import { spawnSync } from "node:child_process";
import { repoRoot } from "../helpers/paths.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { strict as assert } from "node:assert";
import { parse } from "yaml";

const ROOT = repoRoot();
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  working_dir?: string;
  healthcheck?: { test: string[] };
}

void describe("docker-compose.yml", () => {
  const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const services = compose.services;

  void it("runs nats with JetStream, the service and two agents", () => {
    assert.deepEqual(Object.keys(services).sort(), ["agent-web1", "agent-web2", "nats", "service"]);
    const nats = services["nats"]!;
    assert.match(nats.image ?? "", /^nats:2\.(9|1\d)/);
    assert.ok(nats.command?.includes("-js"), "JetStream is enabled");
    assert.ok(nats.healthcheck, "the others wait for a healthy server");
  });

  void it("the reactor services build this repository's image and reach nats by its service name", () => {
    for (const name of ["service", "agent-web1", "agent-web2"]) {
      const s = services[name]!;
      assert.equal(s.build, ".", name);
      assert.equal(s.image, "nats-reactor:local", name);
      assert.deepEqual(s.depends_on, { nats: { condition: "service_healthy" } }, name);
      assert.equal(s.environment?.["NATS_URL"], "nats://nats:4222", name);
    }
  });

  void it("commands are `reactor serve` / `reactor agent` on config files the image holds", () => {
    assert.deepEqual(services["service"]!.command, ["serve", "-c", "/app/reactors/reactor.yaml"]);
    const ids = new Set<string>();
    for (const name of ["agent-web1", "agent-web2"]) {
      const cmd = services[name]!.command!;
      assert.equal(cmd[0], "agent");
      assert.equal(cmd[cmd.indexOf("-c") + 1], "/app/examples/agent.yaml");
      ids.add(cmd[cmd.indexOf("--id") + 1]!);
      const stateDir = cmd[cmd.indexOf("--state-dir") + 1]!;
      assert.ok(services[name]!.volumes?.some((v) => v.endsWith(`:${stateDir}`)), `${name} keeps its keys in a volume`);
    }
    assert.deepEqual([...ids].sort(), ["web1", "web2"], "two distinct agent ids (accepted by reactors/auto-accept.sls)");
    for (const f of ["reactors/reactor.yaml", "examples/agent.yaml"]) assert.ok(existsSync(join(ROOT, f)), f);
  });

  void it("every named volume is declared", () => {
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0]!;
        if (!source.startsWith(".") && !source.startsWith("/")) assert.ok(source in compose.volumes, source);
      }
    }
  });
});

void describe("Dockerfile", () => {
  const KNOWN = new Set(["FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"]);
  const lines = read("Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const instr = lines.map((l) => l.split(/\s+/)[0]!);

  void it("uses only known instructions, starts FROM node:20-slim and ends with the reactor entrypoint", () => {
    for (const i of instr) assert.ok(KNOWN.has(i), `unknown instruction ${i}`);
    assert.equal(instr[0], "FROM");
    for (const l of lines.filter((x) => x.startsWith("FROM "))) assert.match(l, /^FROM node:20-slim( AS \w+)?$/);
    const entry = lines.find((l) => l.startsWith("ENTRYPOINT "))!;
    assert.deepEqual(JSON.parse(entry.slice("ENTRYPOINT ".length)), ["node", "/app/dist/src/cli/main.js"]);
  });

  void it("installs with npm ci, builds, copies what the CLI reads at run time, and drops root", () => {
    assert.ok(lines.some((l) => /^RUN npm ci\b/.test(l)));
    assert.ok(lines.some((l) => /^RUN npm run build\b/.test(l)));
    for (const p of ["package.json", "schemas", "reactors", "examples", "beacons.yaml"]) assert.ok(lines.some((l) => l.startsWith(`COPY ${p} `)), p);
    assert.equal(lines.filter((l) => l.startsWith("USER ")).at(-1), "USER node");
    const bin = JSON.parse(read("package.json")) as { bin: { reactor: string } };
    assert.equal(`/app/${bin.bin.reactor}`, "/app/dist/src/cli/main.js", "ENTRYPOINT is the package's bin");
  });

  void it(".dockerignore keeps node_modules and dist out of the build context", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const p of ["node_modules", "dist", ".git"]) assert.ok(ignored.includes(p), p);
  });
});

void describe("systemd units", () => {
  const sections = (text: string) => {
    const out = new Map<string, Map<string, string[]>>();
    let cur: Map<string, string[]> | undefined;
    for (const raw of text.split("\n")) {
      const l = raw.trim();
      if (l === "" || l.startsWith("#") || l.startsWith(";")) continue;
      const h = /^\[(\w+)\]$/.exec(l);
      if (h) out.set(h[1]!, (cur = new Map()));
      else {
        const m = /^([A-Za-z]+)=(.*)$/.exec(l);
        assert.ok(m && cur, `not a unit line: ${l}`);
        cur.set(m[1]!, [...(cur.get(m[1]!) ?? []), m[2]!]);
      }
    }
    return out;
  };

  for (const [file, exec] of [
    ["deploy/systemd/nats-reactor.service", /^\/usr\/bin\/reactor serve -c \/etc\/nats-reactor\/reactor\.yaml$/],
    ["deploy/systemd/nats-reactor-agent.service", /^\/usr\/bin\/reactor agent -c \/etc\/nats-reactor\/agent\.yaml\b/],
  ] as const) {
    void it(`${file}: [Unit], [Service], [Install], ExecStart runs ${exec.source.includes("serve") ? "reactor serve" : "reactor agent"}`, () => {
      const s = sections(read(file));
      assert.deepEqual([...s.keys()], ["Unit", "Service", "Install"]);
      assert.match(s.get("Service")!.get("ExecStart")![0]!, exec);
      assert.ok(s.get("Service")!.get("Restart"), "restarts");
      assert.deepEqual(s.get("Install")!.get("WantedBy"), ["multi-user.target"]);
      assert.ok(s.get("Unit")!.get("After")![0]!.includes("network-online.target"));
      for (const k of ["ProtectKernelModules", "LockPersonality", "RestrictAddressFamilies"]) assert.ok(s.get("Service")!.get(k), `${file}: ${k}`);
    });
  }

  void it("the service unit runs unprivileged with a read-only system", () => {
    const svc = sections(read("deploy/systemd/nats-reactor.service")).get("Service")!;
    assert.deepEqual(svc.get("User"), ["nats-reactor"]);
    assert.deepEqual(svc.get("NoNewPrivileges"), ["yes"]);
    assert.deepEqual(svc.get("ProtectSystem"), ["strict"]);
  });
});

void describe("deploy/nats-cluster", () => {
  const confs = ["nats-1.conf", "nats-2.conf", "nats-3.conf"].map((f) => join("deploy/nats-cluster", f));

  void it("three nodes of one JetStream cluster, distinct names, each routing to all three", () => {
    const names = new Set<string>();
    for (const f of confs) {
      const text = read(f);
      names.add(/^server_name: (\S+)$/m.exec(text)![1]!);
      assert.match(text, /^jetstream \{/m);
      assert.match(text, /^\s+name: nats-reactor$/m);
      assert.equal(text.match(/nats-route:\/\//g)?.length, 3, f);
    }
    assert.equal(names.size, 3);
  });

  void it("nats-server -t accepts each file (when nats-server is on PATH)", (t) => {
    const probe = spawnSync("nats-server", ["--version"], { encoding: "utf8" });
    if (probe.error) {
      t.diagnostic("nats-server is not on PATH: syntax check not run");
      return;
    }
    for (const f of confs) {
      const r = spawnSync("nats-server", ["-c", join(ROOT, f), "-t"], { encoding: "utf8" });
      assert.equal(r.status, 0, `${f}: ${r.stderr}${r.stdout}`);
    }
  });
});

void describe("deploy/nats-server-secure.conf", () => {
  const text = read("deploy/nats-server-secure.conf");

  void it("holds no hand-written users or permissions: it includes the users file the service generates", () => {
    assert.match(text, /^include "reactor-auth\.conf"$/m);
    assert.match(text, /^pid_file: /m, "the service reloads the server through its pid file");
    assert.doesNotMatch(text.replace(/^#.*$/gm, ""), /authorization|permissions|nkey/);
  });

  void it("nats-server -t accepts it with a generated users file (service, bootstrap, one agent)", async (t) => {
    const probe = spawnSync("nats-server", ["--version"], { encoding: "utf8" });
    if (probe.error) {
      t.diagnostic("nats-server is not on PATH: syntax check not run");
      return;
    }
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { natsAuthConfig } = await import("../../src/keys/index.js");
    const dir = mkdtempSync(join(tmpdir(), "nr-secure-conf-"));
    try {
      writeFileSync(join(dir, "nats-server.conf"), text);
      const users = natsAuthConfig({
        servicePub: "UCLW3IHHGBWL6ERM2OPJOU2VKGQA3V7HQDCM2F2JDHTALEQ5AXSDAEX7",
        bootstrapPassword: "0123456789abcdefABCDEF",
        agents: [{ id: "web1.example.com", pub: "UAWHZUO5ONZ2N2TSGGY7V3VA2MNO3GXROYI3HGI5HLIMG2FTAXSSUDZI" }],
        customEvents: ["myco/"],
      });
      assert.match(users, /"evt\.salt\.beacon\.web1%2Eexample%2Ecom\.>"/);
      assert.match(users, /"_INBOX_web1%2Eexample%2Ecom\.>"/);
      writeFileSync(join(dir, "reactor-auth.conf"), users);
      const r = spawnSync("nats-server", ["-c", join(dir, "nats-server.conf"), "-t"], { encoding: "utf8" });
      assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
