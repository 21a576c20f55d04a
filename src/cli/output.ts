/**
 * Output: the JSON document on stdout, human text, tables, colour and progress.
 *
 * Progress (spinners) and notes go to stderr, and only when stderr is a terminal and --json is off,
 * so stdout stays a clean data channel for scripts.
 */
import type {Ora} from 'ora'

export function writeJson(value: unknown): void {
  const pretty = Boolean(process.stdout.isTTY)
  process.stdout.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`)
}

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY)
}

const CODES = {bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39]} as const
export type Style = keyof typeof CODES

export function paint(text: string, style: Style, enabled = colorEnabled()): string {
  if (!enabled) return text
  const [open, close] = CODES[style]
  return `\u001B[${open}m${text}\u001B[${close}m`
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g

function visibleLength(text: string): number {
  return text.replace(ANSI, '').length
}

/** Aligned columns with a header; cells may carry colour codes. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) => Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - visibleLength(cell))))
      .join('  ')
      .trimEnd()
  return [line(headers.map((h) => paint(h, 'bold'))), ...rows.map(line)].join('\n')
}

/** "3 minutes ago", "in 2 hours". */
export function relativeTime(iso: string, now = new Date()): string {
  const seconds = Math.round((new Date(iso).getTime() - now.getTime()) / 1000)
  const abs = Math.abs(seconds)
  const units: Array<[string, number]> = [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ]
  for (const [unit, size] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size)
      const text = `${n} ${unit}${n === 1 ? '' : 's'}`
      return seconds < 0 ? `${text} ago` : `in ${text}`
    }
  }
  return 'just now'
}

export interface TerminalOptions {
  readonly json: boolean
}

/** Progress and notes on stderr, silent under --json or when stderr is not a terminal. */
export class Terminal {
  private spinner?: Ora
  private readonly interactive: boolean

  constructor(private readonly options: TerminalOptions) {
    this.interactive = !options.json && Boolean(process.stderr.isTTY)
  }

  get json(): boolean {
    return this.options.json
  }

  /** Human output on stdout (never under --json). */
  print(text: string): void {
    if (!this.options.json) process.stdout.write(`${text}\n`)
  }

  /** A line on stderr for people watching (never under --json). */
  note(text: string): void {
    if (!this.options.json) {
      this.pauseSpinner(() => process.stderr.write(`${text}\n`))
    }
  }

  async startProgress(text: string): Promise<void> {
    if (!this.interactive) return
    const {default: ora} = await import('ora')
    this.spinner = ora({text, stream: process.stderr, isEnabled: true}).start()
  }

  updateProgress(text: string): void {
    if (this.spinner) this.spinner.text = text
  }

  stopProgress(finalText?: string, ok = true): void {
    if (!this.spinner) return
    if (finalText === undefined) this.spinner.stop()
    else if (ok) this.spinner.succeed(finalText)
    else this.spinner.fail(finalText)
    this.spinner = undefined
  }

  private pauseSpinner(write: () => void): void {
    if (!this.spinner) {
      write()
      return
    }
    this.spinner.clear()
    write()
    this.spinner.render()
  }
}
