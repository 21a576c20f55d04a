/** The version a command-line tool on this machine prints, for `devflow doctor`. */
import {execa} from 'execa'

export class ToolMissingError extends Error {}

/** Its trimmed output; a ToolMissingError when the command is not installed, its own error otherwise. */
export async function toolVersion(command: string, args: readonly string[], timeoutMs = 8000): Promise<string> {
  try {
    const {stdout} = await execa(command, args, {timeout: timeoutMs})
    return stdout.trim()
  } catch (error) {
    if ((error as {code?: string}).code === 'ENOENT') throw new ToolMissingError(`${command} is not installed`, {cause: error})
    throw error
  }
}
