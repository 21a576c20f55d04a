/**
 * The Docker network the local workspaces run on when egress is filtered: a user-defined bridge
 * created `--internal`, so Docker gives it no route out (no default gateway, no NAT). What a
 * workspace can still reach is the host's own address on that bridge (the network's gateway
 * address, on a Linux engine), where the session's egress proxy listens
 * (src/adapters/local/egress-proxy.ts), and the other workspaces on it.
 */
import {execa} from 'execa'

import {unavailable} from '../../core/errors.js'

/** The one network every filtered local workspace joins. */
export const WORKSPACE_NETWORK = 'devflow-workspaces'
export const WORKSPACE_NETWORK_LABEL = 'devflow.network=workspaces'

interface IpamConfig {
  readonly Subnet?: string
  readonly Gateway?: string
}

/** Creates the internal network unless it exists; returns the host's address on it (where the proxies listen). */
export async function ensureWorkspaceNetwork(docker: string, name = WORKSPACE_NETWORK): Promise<{name: string; gateway: string}> {
  let gateway = await networkGateway(docker, name)
  if (gateway === undefined) {
    const created = await execa(docker, ['network', 'create', '--internal', '--label', WORKSPACE_NETWORK_LABEL, name], {reject: false, timeout: 30_000})
    // Two sessions starting at once may both create it: the loser's "already exists" is fine.
    if (created.exitCode !== 0 && !/already exists/i.test(String(created.stderr))) {
      throw unavailable('DOCKER_NETWORK_FAILED', `docker could not create the workspace network ${name}: ${String(created.stderr).trim()}`, 'Check `docker network ls` and the engine\'s address pools, or run `devflow local up --runtime process`.')
    }
    gateway = await networkGateway(docker, name)
  }
  if (gateway === undefined) {
    throw unavailable('DOCKER_NETWORK_FAILED', `The workspace network ${name} has no IPv4 gateway address for the egress proxy to listen on.`, `Remove it (\`docker network rm ${name}\`) so DevFlow creates it again.`)
  }
  return {name, gateway}
}

async function networkGateway(docker: string, name: string): Promise<string | undefined> {
  const result = await execa(docker, ['network', 'inspect', '--format', '{{json .IPAM.Config}}', name], {reject: false, timeout: 10_000})
  if (result.exitCode !== 0) {
    if (/no such network|not found/i.test(String(result.stderr))) return undefined
    throw unavailable('DOCKER_FAILED', `docker network inspect ${name} failed: ${String(result.stderr).trim()}`, 'Check that the Docker engine runs (`docker info`).')
  }
  const configs = JSON.parse(String(result.stdout) || '[]') as IpamConfig[] | null
  return (configs ?? []).map((config) => config.Gateway?.replace(/\/\d+$/, '')).find((address) => address !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(address))
}

/** The container's address on the network (the host reaches the editor there). */
export async function containerAddress(docker: string, container: string, network: string): Promise<string | undefined> {
  const result = await execa(docker, ['inspect', '--format', '{{json .NetworkSettings.Networks}}', container], {reject: false, timeout: 10_000})
  if (result.exitCode !== 0) return undefined
  const networks = JSON.parse(String(result.stdout) || '{}') as Record<string, {IPAddress?: string}> | null
  const address = networks?.[network]?.IPAddress
  return address ? address : undefined
}
