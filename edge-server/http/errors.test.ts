import { describe, expect, it } from 'vitest';
import { publicMessage } from './errors';

describe('publicMessage', () => {
  it('strips native source paths and module locations, and keeps what the client sent', () => {
    const ort =
      "Non-zero status code returned while running Conv node. Name:'conv1' Status Message: " +
      '/onnxruntime_src/onnxruntime/core/providers/cpu/nn/conv.cc:106 onnxruntime::common::Status Conv failed: X num_dims does not match W';
    expect(publicMessage(ort)).toBe(
      "Non-zero status code returned while running Conv node. Name:'conv1' Status Message: " +
        '<source> onnxruntime::common::Status Conv failed: X num_dims does not match W',
    );
    expect(publicMessage('at load (/srv/tandem/node_modules/onnxruntime-node/dist/backend.js:12:3)')).toBe('at load (<source>)');
    expect(publicMessage(`cannot open ${process.cwd()}/models/repository/x/1/model.onnx`)).toBe('cannot open ./models/repository/x/1/model.onnx');
    expect(publicMessage('unknown model "../../manifest.json"')).toBe('unknown model "../../manifest.json"');
    expect(publicMessage('no route POST /v2/models/a/infer')).toBe('no route POST /v2/models/a/infer');
  });
});
