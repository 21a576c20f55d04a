/**
 * The toolkit's IoHost: turns CDK's message stream into DevFlow progress. Resource events become
 * one line each on stderr (non-TTY), or the text of a spinner (TTY); nothing under --json. Failed
 * resource events are remembered, so a failed deployment can name the resource and the reason.
 */
import type {IIoHost, IoMessage, IoRequest, StackActivity} from '@aws-cdk/toolkit-lib'

/** Where progress goes: the command decides (stderr lines, a spinner, or nothing). */
export interface ProgressSink {
  /** A resource event or a milestone. */
  event(line: string): void
}

export interface ResourceFailure {
  readonly stackName: string
  readonly logicalId: string
  readonly resourceType: string
  readonly status: string
  readonly reason: string
}

const RESOURCE_EVENT = 'CDK_TOOLKIT_I5502'
const MILESTONES = new Set([
  'CDK_TOOLKIT_I5100', // deploying stack n/m
  'CDK_TOOLKIT_I5900', // stack deployed
  'CDK_TOOLKIT_I7100', // destroying stack
  'CDK_TOOLKIT_I7900', // stack destroyed
  'CDK_TOOLKIT_I9900', // environment bootstrapped
  'CDK_ASSETS_I5275', // asset built or published
])

export class ToolkitProgress implements IIoHost {
  readonly failures: ResourceFailure[] = []
  /** The toolkit's own error messages, for when no resource event explains a failure. */
  readonly errors: string[] = []

  constructor(private readonly sink: ProgressSink) {}

  async notify(msg: IoMessage<unknown>): Promise<void> {
    if (msg.code === RESOURCE_EVENT && isStackActivity(msg.data)) {
      this.onResourceEvent(msg.data)
      return
    }
    if (msg.level === 'error') {
      this.errors.push(msg.message)
      return
    }
    if (msg.code && MILESTONES.has(msg.code)) this.sink.event(clean(msg.message))
  }

  /** Never interactive: the command asked its questions before calling the toolkit. */
  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    return msg.defaultResponse
  }

  private onResourceEvent(activity: StackActivity): void {
    const event = activity.event
    const status = event.ResourceStatus ?? ''
    const stackName = event.StackName ?? ''
    const logicalId = event.LogicalResourceId ?? ''
    const resourceType = event.ResourceType ?? ''
    const reason = event.ResourceStatusReason ?? ''
    const path = activity.metadata?.constructPath
    const label = path ? `${logicalId} (${path})` : logicalId
    this.sink.event(`${stackName} | ${status} | ${resourceType} | ${label}${reason ? ` | ${reason}` : ''}`)
    if (status.endsWith('_FAILED') && !isCancellation(reason)) {
      this.failures.push({stackName, logicalId, resourceType, status, reason})
    }
  }
}

function isStackActivity(data: unknown): data is StackActivity {
  return typeof data === 'object' && data !== null && 'event' in data && typeof (data as {event: unknown}).event === 'object'
}

/** Resources CloudFormation stopped because another one failed carry no cause of their own. */
function isCancellation(reason: string): boolean {
  return /Resource creation cancelled|Resource update cancelled/i.test(reason)
}

function clean(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/\u001B\[[0-9;]*m/g, '').replace(/^[^\w(]+/u, '').trim()
}

/**
 * aws-cdk-lib announces each asset bundle with a bare `process.stderr.write("Bundling asset ...")`,
 * outside the toolkit's message stream. While `work` runs, those lines go to the sink instead, so
 * they follow the same rules as all progress (silent under --json). Anything else passes through.
 */
export async function routingBundlingNotices<T>(sink: ProgressSink, work: () => Promise<T>): Promise<T> {
  const original = process.stderr.write
  let forwarding = false
  process.stderr.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    // The sink itself may write to stderr: that write must pass through, not come back here.
    if (!forwarding && typeof chunk === 'string' && chunk.startsWith('Bundling asset ')) {
      forwarding = true
      try {
        sink.event(chunk.trim())
      } finally {
        forwarding = false
      }
      return true
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof process.stderr.write
  try {
    return await work()
  } finally {
    process.stderr.write = original
  }
}
