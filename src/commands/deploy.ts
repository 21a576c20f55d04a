import {Flags} from '@oclif/core'

import {table} from '../cli/output.js'
import {contextFlag, PlatformCommand} from '../cli/platform-command.js'

export default class Deploy extends PlatformCommand<typeof Deploy> {
  static summary = 'Deploy (or update) the DevFlow platform stack of a stage'
  static description =
    'Checks your AWS credentials, bootstraps the account and region for CDK when needed, synthesizes the devflow-<stage> stack and deploys it, then saves its outputs (API URL, cluster, tables, ...) in the config so the session commands find them. The workspace image is the digest `devflow image push` recorded, else the tag `latest`.'
  static examples = [
    '<%= config.bin %> deploy --stage dev',
    '<%= config.bin %> deploy --stage prod --profile prod-admin --json',
    '<%= config.bin %> deploy -c devflow:imageTag=v1.4.0',
  ]
  static flags = {
    context: contextFlag,
    'skip-bootstrap': Flags.boolean({description: 'do not check whether the environment is bootstrapped'}),
  }

  async run(): Promise<Record<string, string>> {
    const stage = await this.stage()
    const {deployed, record} = await (await this.platformStack()).deploy(stage, this.flags.context, {skipBootstrap: this.flags['skip-bootstrap']})
    this.terminal.print(table(['output', 'value'], Object.entries(deployed.outputs).map(([key, value]) => [key, value ?? ''])))
    this.terminal.note(`Saved the outputs of ${deployed.stackName} for stage ${stage}.`)
    return record
  }
}
