import {Flags} from '@oclif/core'

import {DEFAULT_LOCAL_PORT, LOCAL_STAGE} from '../../adapters/local/paths.js'
import {BaseCommand} from '../../cli/base-command.js'
import {resolveSettings, SETTINGS} from '../../cli/config.js'
import {dataDirFlag, resolveDataDir} from '../../cli/local-flags.js'
import {reportUp} from '../../cli/local-format.js'
import {type LocalStageStarted, type RuntimeRequest, startLocalStage} from '../../operations/local-platform.js'

export default class LocalUp extends BaseCommand<typeof LocalUp> {
  static summary = 'Start the whole DevFlow platform on this machine, in the background'
  static description =
    'Starts the DevFlow API on 127.0.0.1 (protected by a random token kept in the data dir), an embedded database and a runtime: each session is a container of the workspace image when Docker answers and the image exists, else host processes running the container\'s own scripts. Writes the `local` stage into the config, so `devflow session … --stage local` (or DEVFLOW_STAGE=local) uses it. Running it again while the platform runs changes nothing.'
  static examples = [
    '<%= config.bin %> local up',
    '<%= config.bin %> local up --port 9000 --data-dir ./devflow-data',
    '<%= config.bin %> local up --runtime process --warm 1',
    '<%= config.bin %> local up && <%= config.bin %> session start --stage local --repo "$PWD/examples/sample-repo"',
  ]

  static flags = {
    port: Flags.integer({description: 'port of the local API on 127.0.0.1', default: DEFAULT_LOCAL_PORT, min: 1, max: 65_535}),
    'data-dir': dataDirFlag,
    runtime: Flags.string({
      description: 'how sessions run: containers of the workspace image, or host processes running the container scripts (auto: Docker when an engine answers and a devflow-workspace image exists)',
      options: ['auto', 'docker', 'process'],
      default: 'auto',
    }),
    image: Flags.string({description: 'with the Docker runtime: the workspace image [default: the newest devflow-workspace image]'}),
    warm: Flags.integer({description: 'workspace processes to keep ready for new sessions of the default size (the process runtime; README "The warm pool")', default: 0, min: 0, max: 8}),
  }

  async run(): Promise<LocalStageStarted['up']> {
    const config = await this.configFile()
    // The local stage's guardrail settings (`devflow config set budgets ... --stage local`) reach the server as its environment.
    const local = resolveSettings(config, {stage: LOCAL_STAGE}, process.env)
    const guardrails = Object.fromEntries(
      (['budgets', 'egress', 'notifyWebhook', 'notifyFormat', 'githubMaxSessionsPerRepo'] as const).flatMap((key) => (local[key]?.value === undefined ? [] : [[SETTINGS[key].env, local[key].value]])),
    )
    const options = {dataDir: resolveDataDir(this.flags['data-dir'], config), port: this.flags.port, env: {...process.env, ...guardrails}, runtime: this.flags.runtime as RuntimeRequest, image: this.flags.image, warm: this.flags.warm}
    await this.terminal.startProgress('Starting the local platform')
    const started = await startLocalStage(config, options)
    this.terminal.stopProgress()
    reportUp(this.terminal, started, this.flags.port)
    return started.up
  }
}
