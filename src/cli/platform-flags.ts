/** What the platform commands (deploy, bootstrap, diff, destroy, synth) share. */
import {Flags} from '@oclif/core'

import type {Terminal} from './output.js'
import type {ProgressSink} from '../adapters/cdk/toolkit-progress.js'

export const contextFlag = Flags.string({
  char: 'c',
  description: 'CDK context value, key=value (repeatable), as with `cdk -c`',
  multiple: true,
  default: [],
})

/**
 * Resource events: one line each on stderr when stderr is not a terminal, the text of the spinner
 * when it is, nothing under --json.
 */
export function progressSink(terminal: Terminal): ProgressSink {
  if (terminal.json) return {event: () => undefined}
  if (process.stderr.isTTY) return {event: (line) => terminal.updateProgress(line)}
  return {event: (line) => terminal.note(line)}
}
