import {remoteFailure} from '../../core/errors.js'
import type {NotificationTestResult} from '../../core/session-api.js'
import {SessionCommand} from '../../cli/session-command.js'

export default class NotifyTest extends SessionCommand<typeof NotifyTest> {
  static summary = 'Send a test message to the stage\'s notification webhook'
  static description = 'Exit 7 when the webhook is not configured or did not accept the message; the error says why.'
  static examples = ['<%= config.bin %> notify test', '<%= config.bin %> notify test --stage prod --json']

  async run(): Promise<NotificationTestResult> {
    const client = await this.sessionClient()
    const result = await client.api.notifyTest(client.caller)
    if (!result.delivered) {
      throw remoteFailure('NOTIFICATION_FAILED', `The test notification was not delivered: ${result.error ?? `HTTP ${result.status}`}.`, 'Check the stage\'s webhook URL (notifications.webhookUrl, see README "Guardrails") and that it accepts a POST.', {
        details: {...result},
      })
    }
    this.terminal.print(`Delivered${result.status === undefined ? '' : ` (HTTP ${result.status})`}.`)
    return result
  }
}
