import {Args, Flags} from '@oclif/core'

import {ExitCode} from '../../core/errors.js'
import {PrMode, type Prompt, type PromptEvent} from '../../core/models.js'
import {parseSessionId} from '../../core/validation.js'
import {readPromptText} from '../../cli/session-actions.js'
import {SessionCommand} from '../../cli/session-command.js'
import {eventLine, promptResult} from '../../cli/session-format.js'
import {followPrompt} from '../../operations/session-wait.js'

export default class SessionPrompt extends SessionCommand<typeof SessionPrompt> {
  static summary = 'Send a prompt to the session\'s AI agent'
  static description = `The prompt comes from TEXT, --file, or standard input (exactly one). Without --wait it is queued and its id printed.
With --wait, the agent's progress streams to stderr and the result follows: exit 0 when the prompt succeeded, 7 when it failed, 6 when --timeout passed first.
--stream prints each progress event as a JSON line on stdout ({"event": ...}) and ends with {"prompt": ...}.`
  static examples = [
    '<%= config.bin %> session prompt s-abcdefghijklmnopqrst "add a /health endpoint with a test" --pr draft --wait',
    '<%= config.bin %> session prompt s-abcdefghijklmnopqrst --file task.md --wait --json',
    'git diff | <%= config.bin %> session prompt s-abcdefghijklmnopqrst --stream',
  ]
  static args = {
    id: Args.string({description: 'session id', required: true}),
    text: Args.string({description: 'the prompt (or use --file, or standard input)'}),
  }
  static flags = {
    file: Flags.string({char: 'f', description: 'read the prompt from this file'}),
    pr: Flags.string({description: 'open a pull request with the result', options: [...PrMode.options], default: 'none'}),
    wait: Flags.boolean({char: 'w', description: 'wait for the result, showing progress on stderr'}),
    stream: Flags.boolean({description: 'wait, printing progress events as JSON lines on stdout', exclusive: ['json']}),
    timeout: Flags.string({description: 'with --wait or --stream: give up after this long', default: '30m'}),
  }

  async run(): Promise<Prompt> {
    const sessionId = parseSessionId(this.args.id)
    const waiting = this.flags.wait || this.flags.stream
    const timeoutMs = this.durationMs(this.flags.timeout, 'timeout')
    const text = await readPromptText({text: this.args.text, file: this.flags.file, stdin: process.stdin})
    const client = await this.sessionClient()
    const queued = await client.api.enqueuePrompt(client.caller, sessionId, {text, pr: PrMode.parse(this.flags.pr)})
    if (!waiting) {
      this.terminal.print(queued.id)
      this.terminal.note(`Queued prompt #${queued.seq} (${queued.id}). Follow it with \`devflow session logs ${sessionId} --prompt ${queued.id} --follow\`.`)
      return queued
    }
    const onEvent = this.flags.stream
      ? (event: PromptEvent) => process.stdout.write(`${JSON.stringify({event})}\n`)
      : (event: PromptEvent) => this.terminal.note(eventLine(event))
    this.terminal.note(`Queued prompt #${queued.seq} (${queued.id}); waiting for the agent…`)
    const prompt = await followPrompt(client.api, client.caller, sessionId, queued.id, {intervalMs: this.pollIntervalMs(), timeoutMs, onEvent})
    if (this.flags.stream) process.stdout.write(`${JSON.stringify({prompt})}\n`)
    else this.terminal.print(promptResult(prompt))
    if (prompt.status !== 'SUCCEEDED') {
      process.exitCode = ExitCode.REMOTE
      this.terminal.note(`The prompt ${prompt.status === 'CANCELLED' ? 'was cancelled' : 'failed'}${prompt.error ? `: ${prompt.error.message}` : ''}.`)
    }
    return prompt
  }
}
