// The OTLP decoding thread (see otlpDecoder.ts): bodies in, span records out. Built into
// dist/otlpDecodeWorker.js; run from source under tsx in the tests.

import { parentPort } from 'node:worker_threads';
import { decodeOtlpJson, decodeOtlpProtobuf, OtlpDecodeError } from './otlpDecode.ts';
import type { DecodeReply, DecodeRequest } from './otlpDecoder.ts';

parentPort!.on('message', (m: DecodeRequest) => {
  let reply: DecodeReply;
  try {
    const decoded =
      m.format === 'protobuf'
        ? decodeOtlpProtobuf(m.body)
        : decodeOtlpJson(Buffer.from(m.body).toString('utf8'));
    reply = { id: m.id, decoded };
  } catch (e) {
    reply = {
      id: m.id,
      error: { message: (e as Error).message, decode: e instanceof OtlpDecodeError },
    };
  }
  parentPort!.postMessage(reply);
});
