import {Flags} from '@oclif/core'

import {DEFAULT_LOCAL_PORT, LOCAL_STAGE} from '../../adapters/local/paths.js'
import {BaseCommand} from '../../cli/base-command.js'
import {dataDirFlag, resolveDataDir} from '../../cli/local-flags.js'
import {type LocalStageStarted, type RuntimeRequest, startLocalStage} from '../../operations/local-platform.js'

export default class LocalUp extends BaseCommand<typeof LocalUp> {
  static summary = 'Start the whole DevFlow platform on this machine, in the background'
  static description =
    'Starts the DevFlow API on 127.0.0.1 (protected by a random token kept in the data dir), an embedded database and a runtime: each session is a container of the workspace image when Docker answers and the image exists, else host processes running the container\'s own scripts. Writes the `local` stage into the config, so `devflow session … --stage local` (or DEVFLOW_STAGE=local) uses it. Running it again while the platform runs changes nothing.'
  static examples = [
    '<%= config.bin %> local up',
    '<%= config.bin %> local up --port 9000 --data-dir ./devflow-data',
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
  }

  async run(): Promise<LocalStageStarted['up']> {
    const config = await this.configFile()
    const options = {dataDir: resolveDataDir(this.flags['data-dir'], config), port: this.flags.port, env: process.env, runtime: this.flags.runtime as RuntimeRequest, image: this.flags.image}
    await this.terminal.startProgress('Starting the local platform')
    const started = await startLocalStage(config, options)
    this.terminal.stopProgress()
    this.report(started)
    if (!started.claudeApiKeySet) {
      this.terminal.note('No Claude API key yet: prompts will be refused until you run `devflow secrets set claude-api-key --stage local` (or export ANTHROPIC_API_KEY before `devflow local up`).')
    }
    return started.up
  }

  private report({up, consoleLinkProblem}: LocalStageStarted): void {
    if (up.started) {
      const runtime = up.runtime === 'docker' ? `sessions run as ${up.image} containers` : 'sessions run as host processes'
      this.terminal.print(`DevFlow is running locally at ${up.url} (pid ${up.pid}; ${runtime}); data in ${up.dataDir}.`)
    } else {
      this.terminal.print(`DevFlow is already running locally at ${up.url} (pid ${up.pid}); nothing was started.`)
      if (up.port !== this.flags.port && this.flags.port !== DEFAULT_LOCAL_PORT) this.terminal.note(`It listens on port ${up.port}, not ${this.flags.port}: run \`devflow local down\` first to move it.`)
    }
    this.terminal.print(`Start a session:  devflow session start --stage ${LOCAL_STAGE} --repo "$PWD/examples/sample-repo"`)
    if (up.consoleLoginUrl) this.terminal.print(`Or in the browser: ${up.consoleLoginUrl}  (a one-time sign-in link; \`devflow local open\` makes another)`)
    if (consoleLinkProblem) this.terminal.note(`No console sign-in link: ${consoleLinkProblem}`)
  }
}
