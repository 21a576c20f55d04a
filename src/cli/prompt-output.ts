/**
 * What `session prompt` shows: the queued prompt's id, then (waiting) its progress on stderr or,
 * with --stream, each event and the result as JSON lines on stdout.
 */
import {ExitCode} from '../core/errors.js'
import type {Prompt, PromptEvent} from '../core/models.js'
import type {Terminal} from './output.js'
import {eventLine, promptResult} from './session-format.js'

export class PromptOutput {
  constructor(
    private readonly terminal: Terminal,
    private readonly stream: boolean,
  ) {}

  queuedOnly(queued: Prompt, sessionId: string): void {
    this.terminal.print(queued.id)
    this.terminal.note(`Queued prompt #${queued.seq} (${queued.id}). Follow it with \`devflow session logs ${sessionId} --prompt ${queued.id} --follow\`.`)
  }

  readonly queued = (queued: Prompt): void => this.terminal.note(`Queued prompt #${queued.seq} (${queued.id}); waiting for the agent…`)

  readonly event = (event: PromptEvent): void => {
    if (this.stream) process.stdout.write(`${JSON.stringify({event})}\n`)
    else this.terminal.note(eventLine(event))
  }

  /** The result; a prompt that did not succeed ends the command with exit 7. */
  finished(prompt: Prompt): void {
    if (this.stream) process.stdout.write(`${JSON.stringify({prompt})}\n`)
    else this.terminal.print(promptResult(prompt))
    if (prompt.status === 'SUCCEEDED') return
    process.exitCode = ExitCode.REMOTE
    this.terminal.note(`The prompt ${prompt.status === 'CANCELLED' ? 'was cancelled' : 'failed'}${prompt.error ? `: ${prompt.error.message}` : ''}.`)
  }
}
