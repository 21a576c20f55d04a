/**
 * Finding a stage's deployed API when the config does not know it: the ApiUrl output of its stack,
 * cached in the stage's `deployment` section so the next command skips the lookup.
 */
import {type ConfigFile, SETTINGS} from '../cli/config.js'
import {stackNameFor} from '../core/deployment.js'
import {invalidInput} from '../core/errors.js'

export interface EndpointDiscovery {
  readonly config: ConfigFile
  /** The region to look in; none means there is nowhere to look. */
  readonly region?: string
  /** The stack's ApiUrl output, undefined when there is no such stack or output. */
  readonly findApiUrl: (stackName: string) => Promise<string | undefined>
}

export async function discoverApiEndpoint(deps: EndpointDiscovery, stage: string): Promise<string> {
  const stackName = stackNameFor(stage)
  const found = deps.region ? await deps.findApiUrl(stackName) : undefined
  if (!found) {
    throw invalidInput(
      'ENDPOINT_UNKNOWN',
      `No DevFlow API is known for stage "${stage}": the config has none and there is no stack ${stackName} with an ApiUrl output${deps.region ? ` in ${deps.region}` : ' (and no AWS region is set to look for one)'}.`,
      `Deploy it with \`devflow deploy --stage ${stage}\`, pass --endpoint (or set DEVFLOW_ENDPOINT), or use --stage / --region of an existing deployment.`,
    )
  }
  const endpoint = SETTINGS.endpoint.parse(found)
  deps.config.setStageData(stage, 'deployment', {...deps.config.getStageData(stage, 'deployment'), apiUrl: endpoint})
  await deps.config.save()
  return endpoint
}
