import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AcceptError,
  MAX_ACCEPT_CONFIGS,
  formatOcrAccept,
  formatOcrConfig,
  formatOipAccept,
  ocrConfigs,
  parseOcrAccept,
  parseOcrConfig,
  parseOipAccept,
  type OcrAccept,
} from './accept';

describe('accepted configurations on /v1/ocr', () => {
  it.each([
    ['det=ppocr-det,ppocr-det-int8;max_side=960,640,480', { det: ['ppocr-det', 'ppocr-det-int8'], maxSide: [960, 640, 480] }],
    [' det = ppocr-det , ppocr-det-int8 ; rec=ppocr-rec-int8 ;', { det: ['ppocr-det', 'ppocr-det-int8'], rec: ['ppocr-rec-int8'] }],
    ['maxSide=640', { maxSide: [640] }],
    ['max_side=640,640,480', { maxSide: [640, 480] }],
    ['', {}],
  ])('parses %j', (text, expected) => {
    expect(parseOcrAccept(text)).toEqual(expected);
  });

  it.each([
    ['det', /not key=value/],
    ['gpu=1', /unknown key "gpu"/],
    ['det=a;det=b', /given twice/],
    ['det=', /lists no value/],
    ['max_side=10', /from 32 to 4096/],
    ['max_side=960px', /integer/],
    ['det=../etc/passwd', /not a model name/],
    ['det=a,b,c,d,e,f,g,h,i', /at most 8/],
    ['det=a,b,c,d;max_side=32,64,96,128,160;rec=x,y,z,w', new RegExp(`80 configurations; at most ${MAX_ACCEPT_CONFIGS}`)],
  ])('refuses %j with a clear message', (text, message) => {
    expect(() => parseOcrAccept(text)).toThrow(AcceptError);
    expect(() => parseOcrAccept(text)).toThrow(message);
  });

  it('expands into configurations, the request filling what it leaves out', () => {
    const own = { det: 'ppocr-det', maxSide: 960, rec: 'ppocr-rec' };
    expect(ocrConfigs({}, own)).toEqual([own]);
    expect(ocrConfigs({ det: ['ppocr-det', 'ppocr-det-int8'], maxSide: [960, 640] }, own)).toEqual([
      { det: 'ppocr-det', maxSide: 960, rec: 'ppocr-rec' },
      { det: 'ppocr-det', maxSide: 640, rec: 'ppocr-rec' },
      { det: 'ppocr-det-int8', maxSide: 960, rec: 'ppocr-rec' },
      { det: 'ppocr-det-int8', maxSide: 640, rec: 'ppocr-rec' },
    ]);
  });

  it('round-trips accept lists and the configuration that ran', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/);
    fc.assert(
      fc.property(
        fc.record(
          {
            det: fc.option(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), { nil: undefined }),
            maxSide: fc.option(fc.uniqueArray(fc.integer({ min: 32, max: 4096 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
            rec: fc.option(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), { nil: undefined }),
          },
          { requiredKeys: [] },
        ),
        (accept: OcrAccept) => {
          const clean = Object.fromEntries(Object.entries(accept).filter(([, v]) => v !== undefined));
          expect(parseOcrAccept(formatOcrAccept(accept))).toEqual(clean);
        },
      ),
    );
    const config = { det: 'ppocr-det-int8', maxSide: 640, rec: 'ppocr-rec' };
    expect(formatOcrConfig(config)).toBe('det=ppocr-det-int8;max_side=640;rec=ppocr-rec');
    expect(parseOcrConfig(formatOcrConfig(config))).toEqual(config);
    expect(() => parseOcrConfig('det=a,b;max_side=640;rec=c')).toThrow(/exactly one/);
  });
});

describe('accepted models on Open Inference Protocol infer', () => {
  it('reads a JSON list or comma-separated names, without duplicates', () => {
    expect(parseOipAccept(undefined)).toBeNull();
    expect(parseOipAccept('["ppocr-det","ppocr-det-int8"]')).toEqual(['ppocr-det', 'ppocr-det-int8']);
    expect(parseOipAccept(formatOipAccept(['a', 'b', 'a']))).toEqual(['a', 'b']);
    expect(parseOipAccept(' ppocr-det , ppocr-det-int8 ')).toEqual(['ppocr-det', 'ppocr-det-int8']);
  });

  it.each([
    [true, /must be a string/],
    [3, /must be a string/],
    ['[', /not a valid JSON list/],
    ['[1]', /not a model name/],
    ['[]', /lists no model/],
    [' , ', /lists no model/],
    ['["a/../b"]', /not a model name/],
    ['a,b,c,d,e,f,g,h,i', /at most 8/],
  ])('refuses %j', (value, message) => {
    expect(() => parseOipAccept(value)).toThrow(message);
  });
});
