import {getCallerIdentity} from '../adapters/aws/identity.js'
import {BaseCommand} from '../cli/base-command.js'
import {invalidInput} from '../core/errors.js'
import {STAGES} from '../../infra/stages.js'
import {progressSink} from '../cli/platform-flags.js'
import {Platform, requireStage} from '../adapters/cdk/toolkit.js'

export default class Destroy extends BaseCommand<typeof Destroy> {
  static summary = 'Delete the DevFlow platform stack of a stage'
  static description =
    'Deletes the devflow-<stage> stack. In prod the tables, secrets, image repository and buckets are retained (infra/stages.ts); in dev they are deleted with the stack. Asks for confirmation; pass --yes when not interactive.'
  static examples = ['<%= config.bin %> destroy --stage dev', '<%= config.bin %> destroy --stage dev --yes --json']

  async run(): Promise<{stackName: string; stage: string; retainedData: boolean}> {
    const stage = requireStage(await this.stage())
    const aws = await this.awsEnvironment()
    const platform = new Platform({stage, aws, progress: progressSink(this.terminal)})
    const identity = await getCallerIdentity(aws)
    const retainedData = STAGES[stage].deletionProtection
    const confirmed = await this.confirm(
      `Delete ${platform.stackName} in account ${identity.account}${retainedData ? ' (its data is kept)' : ', with its tables, secrets and images'}?`,
      `Pass --yes to delete ${platform.stackName} without a prompt.`,
    )
    if (!confirmed) throw invalidInput('CANCELLED', `Left ${platform.stackName} as it is.`, 'Run the command again and answer yes to delete it.')
    await this.terminal.startProgress(`Destroying ${platform.stackName}`)
    await platform.destroy()
    this.terminal.stopProgress(`Destroyed ${platform.stackName}`)
    const config = await this.configFile()
    config.setStageData(stage, 'deployment', undefined)
    await config.save()
    return {stackName: platform.stackName, stage, retainedData}
  }
}
