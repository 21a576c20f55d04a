import {Flags} from '@oclif/core'

import {awsPlatformConfigFromDeployment} from '../../composition/aws.js'
import {BaseCommand} from '../../cli/base-command.js'
import {LAMBDA_ENV} from '../../core/deployment.js'
import {serveApi} from '../../api/serve.js'

export default class ApiServe extends BaseCommand<typeof ApiServe> {
  static summary = 'Serve the DevFlow REST API on this machine against the deployed tables and cluster'
  static description =
    'Runs the same router as the API Lambdas over HTTP (like `sam local start-api`). Table, cluster and task definition names come from the deployment `devflow deploy` saved, or from DEVFLOW_* variables. The caller is the access key of each SigV4-signed request, or --user. Stops on Ctrl-C.'
  static examples = ['<%= config.bin %> api serve', '<%= config.bin %> api serve --port 9000 --user alice']
  static flags = {
    port: Flags.integer({description: 'port to listen on (0 picks a free one)', default: 8787, min: 0, max: 65_535}),
    host: Flags.string({description: 'address to listen on', default: '127.0.0.1'}),
    user: Flags.string({description: 'serve every request as this user instead of the SigV4 access key'}),
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
