/**
 * Opens a URL in the user's browser once a local port answers. Best effort: a machine without a
 * browser (SSH, CI) just keeps the printed URL.
 */
import {spawn} from 'node:child_process'
import {connect} from 'node:net'

/** Whether 127.0.0.1:port accepted a connection before the deadline (or the signal gave up). */
export async function waitForPort(port: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !signal?.aborted) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({host: '127.0.0.1', port})
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return true
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

export function openBrowser(url: string, platform = process.platform): void {
  const [command, args] = platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]]
  const child = spawn(command, args, {stdio: 'ignore', detached: true})
  child.on('error', () => undefined)
  child.unref()
}
