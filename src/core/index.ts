export * from "./errors.js";
export * from "./tag.js";
export * from "./event.js";
export * from "./ports.js";
export * from "./reaction.js";
export * from "./job.js";
export * from "./subject-filter.js";
export * from "./shape.js";
