#!/usr/bin/env node
// Copies the test fixtures that are not TypeScript (SLS, YAML, .mjs) next to the compiled tests, so
// that dist/test/** finds them where test/** does.
import { cpSync } from "node:fs";
cpSync("test/fixtures", "dist/test/fixtures", { recursive: true, filter: (src) => !src.endsWith(".ts") });
