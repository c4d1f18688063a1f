/**
 * Parses a Server-Timing header (`decode;dur=3.1, det;dur=40;desc="x"`) into milliseconds per metric name.
 * Metrics without `dur` are skipped; a repeated name keeps its first value, as the spec says.
 */
export function parseServerTiming(header: string | null): Record<string, number> {
  const stages: Record<string, number> = {};
  if (!header) return stages;
  for (const metric of header.split(',')) {
    const [rawName, ...params] = metric.split(';');
    const name = rawName?.trim();
    if (!name || name in stages) continue;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key?.toLowerCase() === 'dur' && value !== undefined) {
        const ms = Number(value.replace(/^"|"$/g, ''));
        if (Number.isFinite(ms)) stages[name] = ms;
        break;
      }
    }
  }
  return stages;
}
