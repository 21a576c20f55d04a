/**
 * The base of the platform commands (deploy, bootstrap, diff, destroy, synth): the `-c` flag and
 * the platform use cases wired to the CDK toolkit, STS and CloudFormation with this command's
 * settings and terminal.
 */
import {type Command, Flags} from '@oclif/core'

import {isBootstrapped} from '../adapters/aws/cloudformation.js'
import {requireRegion} from '../adapters/aws/environment.js'
import {getCallerIdentity} from '../adapters/aws/identity.js'
import {Platform} from '../adapters/cdk/toolkit.js'
import type {ProgressSink} from '../adapters/cdk/toolkit-progress.js'
import {SecretsAdmin} from '../adapters/aws/secrets-admin.js'
import {createPlatformStack, type PlatformStack} from '../operations/platform-stack.js'
import {BaseCommand} from './base-command.js'
import type {Terminal} from './output.js'

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

export abstract class PlatformCommand<T extends typeof Command> extends BaseCommand<T> {
  protected async platformStack(): Promise<PlatformStack> {
    const aws = await this.awsEnvironment()
    const progress = progressSink(this.terminal)
    return createPlatformStack({
      toolkit: (stage, context) => new Platform({stage, aws, context, progress}),
      account: async () => (await getCallerIdentity(aws)).account,
      region: () => requireRegion(aws),
      isBootstrapped: () => isBootstrapped(aws),
      config: await this.configFile(),
      progress: {start: (text) => this.terminal.startProgress(text), stop: (text) => this.terminal.stopProgress(text)},
      confirm: (question, hint) => this.confirm(question, hint),
      secrets: () => SecretsAdmin.create(aws),
    })
  }
}
