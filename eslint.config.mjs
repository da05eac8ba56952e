// Lint rules, including the dependency direction of DESIGN.md section 1:
// core <- bus/config <- features (reactor, beacons, mine, agent, orchestrate) <- apps <- cli.
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

const FEATURES = ["reactor", "beacons", "mine", "agent", "orchestrate", "netapi", "keys", "api", "state", "fileserver"];
const layer = (name) => `src/${name}/**`;

/** Zones a folder may not import from ("target" may not import "from"). */
const zones = [
  // core is pure: it imports no other layer.
  ...["bus", "config", "cli", "apps", ...FEATURES].map((from) => ({ target: layer("core"), from: `./src/${from}` })),
  // bus and config stand on core only.
  ...["cli", "apps", "config", ...FEATURES].map((from) => ({ target: layer("bus"), from: `./src/${from}` })),
  ...["cli", "apps", "bus", ...FEATURES].map((from) => ({ target: layer("config"), from: `./src/${from}` })),
  // features never import each other, nor the composition roots.
  ...FEATURES.flatMap((f) =>
    [...FEATURES.filter((g) => g !== f), "apps", "cli"].map((from) => ({ target: layer(f), from: `./src/${from}` })),
  ),
  // apps do not import the cli.
  { target: layer("apps"), from: "./src/cli" },
];

/** Third-party libraries that live behind exactly one module: [package, allowed folder under src/]. */
const LAYERS = ["core", "bus", "config", "cli", "apps", ...FEATURES];
const wrapped = [
  ["@nats-io/transport-node", "bus"],
  ["@nats-io/jetstream", "bus"],
  ["@nats-io/kv", "bus"],
  ["@nats-io/obj", "bus"],
  ["@nats-io/nats-core", "bus"],
  ["yaml", "config"],
  ["pino", "apps"],
  ["prom-client", "apps"],
  ["minimatch", "core/glob"],
  ["json-logic-js", "core/conditions"],
  ["fastify", "api"],
  ["@fastify/formbody", "api"],
  ["@fastify/websocket", "api"],
  ["bcryptjs", "api"],
  ["apache-md5", "api"],
  ["apache-crypt", "api"],
  ["ldapts", "api"],
];
for (const [pkg, home] of wrapped) {
  const [top, sub] = home.split("/");
  const targets = LAYERS.filter((l) => l !== top).map((l) => `./src/${l}/**/*`);
  if (sub) targets.push(`./src/${top}/*.ts`, `./src/${top}/!(${sub})/**/*`);
  zones.push({ target: targets, from: `./node_modules/${pkg}`, message: `${pkg} lives behind src/${home}/` });
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".tmp/**", "**/*.mjs", "**/*.cjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX },
    settings: { "import-x/resolver": { typescript: true, node: true } },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] },
          ],
        },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-restricted-paths": ["error", { zones }],
    },
  },
);
