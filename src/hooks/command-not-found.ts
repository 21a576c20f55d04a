/** An unknown command is a usage error (exit 2) in the same Error / Try this format as any other. */
import type {Hook} from '@oclif/core'

import {invalidInput} from '../core/errors.js'
import {formatError} from '../cli/base-command.js'
import {writeJson} from '../cli/output.js'

const hook: Hook<'command_not_found'> = async function (options) {
  const typed = options.id.split(':').join(' ')
  const topics = [...new Set(options.config.commands.map((c) => c.id.split(':')[0]))].sort()
  const error = invalidInput('UNKNOWN_COMMAND', `"${typed}" is not a devflow command.`, `Run \`devflow --help\` to see the commands (${topics.join(', ')}).`)
  if (options.argv?.includes('--json')) writeJson(error.toJSON())
  else process.stderr.write(`${formatError(error)}\n`)
  this.exit(error.exitCode)
}

export default hook
