export { parseYaml, formatPath, toYaml, toFlowYaml } from "./yaml.js";
export type { FieldPath, YamlSource } from "./yaml.js";
export { compileAgentConfig, loadAgentConfig, detectFqdn, parseDuration, DEFAULT_AGENT_STATE_DIR, DEFAULT_AGENT_NATS_SERVER } from "./agent-config.js";
export type { AgentConfig, AgentConfigOverrides, ServiceCommands, MineFunctionSpec } from "./agent-config.js";
export { compileSls, renderTemplateText } from "./sls.js";
export type { CompiledSls } from "./sls.js";
