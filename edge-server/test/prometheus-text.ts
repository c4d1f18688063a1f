/** A strict reader of the Prometheus text exposition format (0.0.4), enough to check what /metrics serves. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', ''];

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  text.split('\n').forEach((line, i) => {
    const fail = (why: string) => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      if (type) families.set(type[1], { type: type[2], samples: [] });
      else if (!new RegExp(`^# HELP ${NAME} `).test(line)) fail('bad comment');
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) return fail('bad sample');
    // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
    const raw = m[3].toLowerCase();
    const value = /^[+]?inf$/.test(raw) ? Infinity : raw === '-inf' ? -Infinity : raw === 'nan' ? NaN : Number(m[3]);
    if (Number.isNaN(value) && raw !== 'nan') fail('bad value');
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        if (!l) return fail('bad labels');
        labels[l[1]] = l[2];
      }
    }
    const family = SUFFIXES.map((s) => (s && m[1].endsWith(s) ? m[1].slice(0, -s.length) : m[1])).find((n) => families.has(n));
    if (!family) return fail('sample with no # TYPE');
    families.get(family)!.samples.push({ name: m[1], labels, value });
  });
  return families;
}
