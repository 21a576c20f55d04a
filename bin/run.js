#!/usr/bin/env node
import {execute} from '@oclif/core'

// `devflow doctor` reports Node.js support itself; the SDK's own banner would break clean stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

await execute({dir: import.meta.url})
