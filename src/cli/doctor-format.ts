/** Human output of `devflow doctor`: one line per check, and its hint unless it passed. */
import type {CheckStatus, DoctorReport} from '../operations/doctor.js'
import {paint, type Style} from './output.js'

const STYLES: Record<CheckStatus, Style> = {PASS: 'green', WARN: 'yellow', FAIL: 'red'}

export function doctorLines(report: DoctorReport): string[] {
  return report.checks.flatMap((check) => [
    `${paint(check.status.padEnd(4), STYLES[check.status])}  ${check.name.padEnd(22)} ${check.message}`,
    ...(check.hint && check.status !== 'PASS' ? [`      ${' '.repeat(22)} ${paint(`Try this: ${check.hint}`, 'dim')}`] : []),
  ])
}
