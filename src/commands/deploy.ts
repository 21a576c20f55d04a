import {Flags} from '@oclif/core'

import {getCallerIdentity} from '../adapters/aws/identity.js'
import {requireRegion} from '../adapters/aws/environment.js'
import {BaseCommand} from '../cli/base-command.js'
import {table} from '../cli/output.js'
import {CONTEXT_KEYS} from '../../infra/stages.js'
import {isBootstrapped} from '../adapters/aws/cloudformation.js'
import {contextFlag, progressSink} from '../cli/platform-flags.js'
import {deploymentRecord, parseContextArgs, Platform} from '../adapters/cdk/toolkit.js'

export default class Deploy extends BaseCommand<typeof Deploy> {
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
    const aws = await this.awsEnvironment()
    const region = requireRegion(aws)
    const config = await this.configFile()
    const context = parseContextArgs(this.flags.context)
    const digest = config.getStageData(stage, 'image')?.digest
    if (digest && context[CONTEXT_KEYS.imageDigest] === undefined && context[CONTEXT_KEYS.imageTag] === undefined) {
      context[CONTEXT_KEYS.imageDigest] = digest
    }
    const platform = new Platform({stage, aws, context, progress: progressSink(this.terminal)})
    const identity = await getCallerIdentity(aws)

    if (!this.flags['skip-bootstrap'] && !(await isBootstrapped(aws))) {
      await this.terminal.startProgress(`Bootstrapping aws://${identity.account}/${region}`)
      await platform.bootstrap(identity.account, region)
      this.terminal.stopProgress(`Bootstrapped aws://${identity.account}/${region}`)
    }
    await this.terminal.startProgress(`Deploying ${platform.stackName} to aws://${identity.account}/${region}`)
    const deployed = await platform.deploy(identity.account)
    this.terminal.stopProgress(`Deployed ${deployed.stackName}`)

    const record = deploymentRecord(deployed)
    config.setStageData(stage, 'deployment', record)
    await config.save()
    this.terminal.print(table(['output', 'value'], Object.entries(deployed.outputs).map(([key, value]) => [key, value ?? ''])))
    this.terminal.note(`Saved the outputs of ${deployed.stackName} for stage ${stage}.`)
    return record
  }
}
