/**
 * The Notifier over the stage's SNS topic (the alarm topic of infra/constructs/monitoring.ts): the
 * budget alerts go there too, so whoever is subscribed to the stage's alarms hears of them. Like
 * every Notifier it never throws: a failed publish is returned and logged.
 */
import {PublishCommand, type SNSClient} from '@aws-sdk/client-sns'

import {describeNotification, type DeliveryResult, type NotificationEvent, type Notifier} from '../../core/notifications.js'

export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: Pick<SNSClient, 'send'>,
    private readonly topicArn: string,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  async notify(event: NotificationEvent): Promise<DeliveryResult> {
    const {headline, details} = describeNotification(event)
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          // SNS subjects: at most 100 printable ASCII characters, no line breaks.
          Subject: headline.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
          Message: [headline, ...details, '', JSON.stringify(event)].join('\n'),
          MessageAttributes: {event: {DataType: 'String', StringValue: event.kind}},
        }),
      )
      return {delivered: true}
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      this.log(`devflow: publishing the ${event.kind} notification to SNS failed: ${reason}`)
      return {delivered: false, error: reason}
    }
  }
}
