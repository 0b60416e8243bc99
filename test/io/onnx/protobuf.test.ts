/** The protobuf writer against encodings worked out by hand from the protocol-buffers wire-format spec. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtoWriter } from '../../../src/io/onnx/protobuf.js';

const hex = (w: ProtoWriter) => Buffer.from(w.finish()).toString('hex');

describe('ProtoWriter', () => {
  it('writes varints: field 1 = 150 is 08 96 01 (the spec example), -1 takes ten bytes', () => {
    assert.equal(hex(new ProtoWriter().int(1, 150)), '089601');
    assert.equal(hex(new ProtoWriter().int(2, -1)), '10ffffffffffffffffff01');
    assert.equal(hex(new ProtoWriter().int(20, 7)), 'a00107');
  });

  it('writes strings, packed ints, floats and nested messages length-delimited', () => {
    assert.equal(hex(new ProtoWriter().string(2, 'testing')), '120774657374696e67');
    assert.equal(hex(new ProtoWriter().packedInts(4, [3, 270, 86942])), '2206038e029ea705');
    assert.equal(hex(new ProtoWriter().float(2, 1)), '150000803f');
    assert.equal(hex(new ProtoWriter().message(3, new ProtoWriter().int(1, 150))), '1a03089601');
  });
});
