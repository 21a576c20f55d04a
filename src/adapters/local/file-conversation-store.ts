/**
 * ConversationStore in the local data dir: `<dataDir>/conversations/<id>.jsonl.gz` (0600 files in a
 * 0700 directory), reached by the workspace process through `file://` URLs, which curl reads and
 * writes like the presigned S3 URLs of a deployed stage. A workspace in a Docker container cannot
 * reach them (its checkpoint then keeps the branch only).
 */
import {existsSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {Clock, ConversationStore, TransferUrl} from '../../core/ports.js'

export class FileConversationStore implements ConversationStore {
  private readonly dir: string

  constructor(
    dataDir: string,
    private readonly clock: Clock,
  ) {
    this.dir = join(dataDir, 'conversations')
  }

  async uploadUrl(sessionId: string): Promise<TransferUrl> {
    mkdirSync(this.dir, {recursive: true, mode: 0o700})
    return this.transfer('PUT', sessionId)
  }

  async downloadUrl(sessionId: string): Promise<TransferUrl | undefined> {
    return existsSync(this.file(sessionId)) ? this.transfer('GET', sessionId) : undefined
  }

  file(sessionId: string): string {
    return join(this.dir, `${sessionId}.jsonl.gz`)
  }

  private transfer(method: 'PUT' | 'GET', sessionId: string): TransferUrl {
    // No expiry of its own: the data dir is the user's.
    return {url: pathToFileURL(this.file(sessionId)).href, method, headers: {}, expiresAt: new Date(this.clock.now().getTime() + 3600_000).toISOString()}
  }
}
