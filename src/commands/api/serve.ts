import {Flags} from '@oclif/core'

import {awsPlatformConfigFromDeployment} from '../../composition/aws.js'
import {BaseCommand} from '../../cli/base-command.js'
import {LAMBDA_ENV} from '../../core/deployment.js'
import {serveApi} from '../../api/serve.js'

export default class ApiServe extends BaseCommand<typeof ApiServe> {
  static summary = 'Serve the DevFlow REST API on this machine against the deployed tables and cluster'
  static description =
    'Runs the same router as the API Lambdas over HTTP (like `sam local start-api`). Table, cluster and task definition names come from the deployment `devflow deploy` saved, or from DEVFLOW_* variables. The caller is the principal of each SigV4 signature verified against DEVFLOW_API_SIGV4_PRINCIPALS; without it, on 127.0.0.1 only, --user (every request is that user) or --trust-unsigned (the access key an unverified SigV4 header names). Stops on Ctrl-C.'
  static examples = ['<%= config.bin %> api serve --user alice', '<%= config.bin %> api serve --port 9000 --trust-unsigned', 'DEVFLOW_API_SIGV4_PRINCIPALS=... <%= config.bin %> api serve --host 0.0.0.0']
  static flags = {
    port: Flags.integer({description: 'port to listen on (0 picks a free one)', default: 8787, min: 0, max: 65_535}),
    host: Flags.string({description: 'address to listen on', default: '127.0.0.1'}),
    user: Flags.string({description: 'serve every request as this user (loopback --host only)'}),
    'trust-unsigned': Flags.boolean({description: 'take the caller from the access key of an unverified SigV4 header (development only; loopback --host only)', default: false}),
  }

  async run(): Promise<{url: string; stopped: boolean}> {
    const stage = await this.stage()
    const deployment = (await this.configFile()).getStageData(stage, 'deployment') ?? {}
    const config = awsPlatformConfigFromDeployment(deployment)
    const server = await serveApi({
      // Agents of sessions started here call this server back, unless told otherwise.
      config: {...config, agentApiUrl: process.env[LAMBDA_ENV.agentApiUrl] || undefined, version: this.config.version},
      env: await this.awsEnvironment(),
      host: this.flags.host,
      port: this.flags.port,
      user: this.flags.user,
      trustUnsigned: this.flags['trust-unsigned'],
    })
    process.stderr.write(`DevFlow API (stage ${stage}) listening on ${server.url}\n`)
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    process.stderr.write(`Stopping (${signal})...\n`)
    await server.close()
    return {url: server.url, stopped: true}
  }
}
