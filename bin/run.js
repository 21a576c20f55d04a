#!/usr/bin/env node
// `devflow doctor` reports Node.js support itself (package.json's engines are stricter than
// oclif's): neither the SDK's banner nor oclif's engine check (which loads all of semver on every
// command) should run. Set before oclif loads, hence the dynamic import.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true'

// oclif's `execute` alone, not its whole index: `devflow --help` never needs the rest.
const {execute} = await import('@oclif/core/execute')
await execute({dir: import.meta.url})
