import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../test/prometheus-text';

describe('Prometheus text checker', () => {
  it('accepts the exposition format and rejects broken lines', () => {
    const ok = parsePrometheusText(
      [
        '# HELP a_total Things.',
        '# TYPE a_total counter',
        'a_total{route="/v1/ocr",outcome="ok"} 3',
        '# TYPE h histogram',
        'h_bucket{le="+Inf"} 1',
        'h_sum 0.5',
        'h_count 1',
        '',
      ].join('\n'),
    );
    expect(ok.get('a_total')).toEqual({ type: 'counter', samples: [{ name: 'a_total', labels: { route: '/v1/ocr', outcome: 'ok' }, value: 3 }] });
    expect(ok.get('h')!.samples.map((s) => s.name)).toEqual(['h_bucket', 'h_sum', 'h_count']);
    expect(() => parsePrometheusText('a_total{x="1"} three\n')).toThrow(/line 1/);
    expect(() => parsePrometheusText('untyped_sample 1\n')).toThrow(/no # TYPE/);
  });
});
