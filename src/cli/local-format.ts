/** Human output of `devflow local up`. */
import {DEFAULT_LOCAL_PORT, LOCAL_STAGE} from '../adapters/local/paths.js'
import type {LocalStageStarted} from '../operations/local-platform.js'
import type {Terminal} from './output.js'

/** What runs (or already ran) where; `requestedPort` is the --port flag. */
export function reportUp(terminal: Terminal, {up, consoleLinkProblem, claudeApiKeySet}: LocalStageStarted, requestedPort: number): void {
  if (up.started) {
    const runtime = up.runtime === 'docker' ? `sessions run as ${up.image} containers` : 'sessions run as host processes'
    terminal.print(`DevFlow is running locally at ${up.url} (pid ${up.pid}; ${runtime}); data in ${up.dataDir}.`)
  } else {
    terminal.print(`DevFlow is already running locally at ${up.url} (pid ${up.pid}); nothing was started.`)
    if (up.port !== requestedPort && requestedPort !== DEFAULT_LOCAL_PORT) terminal.note(`It listens on port ${up.port}, not ${requestedPort}: run \`devflow local down\` first to move it.`)
  }
  terminal.print(`Start a session:  devflow session start --stage ${LOCAL_STAGE} --repo "$PWD/examples/sample-repo"`)
  if (up.consoleLoginUrl) terminal.print(`Or in the browser: ${up.consoleLoginUrl}  (a one-time sign-in link; \`devflow local open\` makes another)`)
  if (consoleLinkProblem) terminal.note(`No console sign-in link: ${consoleLinkProblem}`)
  if (!claudeApiKeySet) {
    terminal.note('No Claude API key yet: prompts will be refused until you run `devflow secrets set claude-api-key --stage local` (or export ANTHROPIC_API_KEY before `devflow local up`).')
  }
}
