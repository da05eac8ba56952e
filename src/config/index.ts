export { parseYaml, formatPath, toYaml, toFlowYaml } from "./yaml.js";
export type { FieldPath, YamlSource } from "./yaml.js";
