/**
 * A recording proxy in front of moto_server: every AWS call that passes through it is kept as
 * (who, service, action, request, response), so tests can check what the API, the reaper and the
 * CLI asked AWS for: IAM actions against the synthesized policies, RunTask requests field by field.
 * Point AWS_ENDPOINT_URL at `url` (a CLI process, a bundled Lambda) to be recorded.
 *
 * It also keeps moto_server's writes apart from every other request (reads run side by side):
 * moto is not thread-safe (its DynamoDB Query deep-copies an item while a concurrent UpdateItem
 * changes it, "dictionary changed size during iteration", an HTML 500 that a client without
 * retries reports as a 502), which real AWS never does.
 */
import {createServer, request as httpRequest, type IncomingHttpHeaders} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface AwsCall {
  /** The SigV4 access key: which component made the call. */
  readonly accessKey: string
  /** The SigV4 signing name: dynamodb, ecs, secretsmanager, sts, cloudformation, ... */
  readonly service: string
  /** The API action, e.g. GetItem, RunTask. */
  readonly action: string
  /** The JSON body (JSON protocols) or the form parameters (query protocols). */
  readonly request: Record<string, unknown>
  readonly status: number
  /** The parsed JSON response, when it was JSON. */
  readonly response?: Record<string, unknown>
}

export interface AwsRecorder {
  /** http://localhost:PORT (a host name, as CDK template URLs need). */
  readonly url: string
  readonly calls: AwsCall[]
  /** The calls made with one access key. */
  by(accessKey: string): AwsCall[]
  close(): Promise<void>
}

export async function startAwsRecorder(upstreamUrl: string): Promise<AwsRecorder> {
  const upstream = new URL(upstreamUrl)
  const calls: AwsCall[] = []
  const lock = new ReadWriteLock()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const target = String(req.headers['x-amz-target'] ?? '')
      const work = () => forward(upstream, req.method ?? 'GET', req.url ?? '/', req.headers, body)
      const forwarded = READ_ACTION.test(target.split('.').at(-1) ?? '') ? lock.read(work) : lock.write(work)
      forwarded.then(
        (answer) => {
          const call = describeCall({...req.headers, 'x-http-method': req.method}, req.url ?? '/', body, answer)
          if (call) calls.push(call)
          res.writeHead(answer.status, answer.headers)
          res.end(answer.body)
        },
        (error: unknown) => {
          res.writeHead(502, {'content-type': 'text/plain'})
          res.end(`recorder: ${String(error)}`)
        },
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://localhost:${port}`,
    calls,
    by: (accessKey) => calls.filter((c) => c.accessKey === accessKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

function forward(upstream: URL, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {hostname: upstream.hostname, port: upstream.port, method, path, headers: {...headers, host: upstream.host}},
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => resolve({status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks)}))
        response.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

function describeCall(headers: IncomingHttpHeaders, url: string, body: Buffer, answer: Answer): AwsCall | undefined {
  // A presigned URL (S3) carries the credential in its query instead of the Authorization header.
  const presigned = new URL(url, 'http://x').searchParams.get('X-Amz-Credential')
  const credential = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? '')) ?? (presigned ? /^([^/]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(presigned) : null)
  if (!credential) return undefined // moto's own API (/moto-api/...) and unsigned requests
  const [, accessKey, service] = credential
  if (service === 's3') return describeS3Call(accessKey, String(headers['x-http-method'] ?? ''), url, answer)
  const target = headers['x-amz-target']
  let action: string | undefined
  let request: Record<string, unknown> = {}
  const text = body.toString('utf8')
  if (typeof target === 'string') {
    action = target.split('.').at(-1)
    request = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } else {
    const form = new URLSearchParams(String(headers['content-type']).includes('x-www-form-urlencoded') ? text : new URL(url, 'http://x').search)
    action = form.get('Action') ?? undefined
    request = Object.fromEntries(form)
  }
  if (!action) return undefined
  let response: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(answer.body.toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null) response = parsed as Record<string, unknown>
  } catch {
    // XML (query protocols) or empty
  }
  return {accessKey, service, action, request, status: answer.status, ...(response ? {response} : {})}
}

/**
 * S3's REST calls on objects, path-style (`/<bucket>/<key>`, as moto is addressed): the action by
 * the method. The recorder only sees the method through the request line, kept by forward().
 */
function describeS3Call(accessKey: string, method: string, url: string, answer: Answer): AwsCall | undefined {
  const path = new URL(url, 'http://x').pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const [bucket, ...key] = path
  const actions: Record<string, string> = {HEAD: 'HeadObject', GET: 'GetObject', PUT: 'PutObject', DELETE: 'DeleteObject'}
  if (key.length > 0 && actions[method]) return {accessKey, service: 's3', action: actions[method], request: {Bucket: bucket, Key: key.join('/')}, status: answer.status}
  // Bucket calls (the fixture's set-up): named by method and sub-resource, which iam-policy.ts does not map.
  const subresource = [...new URL(url, 'http://x').searchParams.keys()].join('&')
  return {accessKey, service: 's3', action: `${method} bucket${subresource ? `?${subresource}` : ''}`, request: {Bucket: bucket ?? ''}, status: answer.status}
}

/** Calls that change nothing in moto (JSON protocols; everything else counts as a write). */
const READ_ACTION = /^(Get|Describe|List|Query$|Scan$|BatchGet)/

/** Many readers or one writer at a time, first come first served. */
class ReadWriteLock {
  private readers = 0
  private writing = false
  private readonly waiting: Array<{write: boolean; start: () => void}> = []

  read<T>(work: () => Promise<T>): Promise<T> {
    return this.run(false, work)
  }

  write<T>(work: () => Promise<T>): Promise<T> {
    return this.run(true, work)
  }

  private run<T>(write: boolean, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        if (write) this.writing = true
        else this.readers++
        work()
          .then(resolve, reject)
          .finally(() => {
            if (write) this.writing = false
            else this.readers--
            this.next()
          })
      }
      this.waiting.push({write, start})
      this.next()
    })
  }

  private next(): void {
    while (this.waiting.length > 0 && !this.writing) {
      const head = this.waiting[0]
      if (head.write && this.readers > 0) return
      this.waiting.shift()
      head.start()
      if (head.write) return
    }
  }
}
