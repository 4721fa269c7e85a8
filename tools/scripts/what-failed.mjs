/**
 * What failed, from a step's output: a Vitest run's failures and unhandled errors come together just
 * before its summary; any other step's last lines say it. CI shows the end of the output, so these
 * are printed again last, not buried under the other lane's output.
 */
export function whatFailed(output) {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const start = lines.findIndex((l) => /⎯ (Failed Tests|Failed Suites|Unhandled Errors?|Unhandled Rejection)\b/.test(l));
  if (start >= 0) {
    const end = lines.findIndex((l, i) => i > start && /^\s*Test Files\s/.test(l));
    return lines
      .slice(start, end > start ? end : undefined)
      .slice(0, 200)
      .join('\n');
  }
  return lines.slice(-60).join('\n');
}
