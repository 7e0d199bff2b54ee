// Writes the official OpenTelemetry protocol definitions that the OTLP receiver decodes with
// (src/server/otlp/proto/), taken from the opentelemetry-proto copy that the OpenTelemetry JS
// project publishes in @opentelemetry/otlp-grpc-exporter-base@0.34.0 (its last release that
// ships the .proto files), checked against the registry's integrity hash. Apache-2.0; the
// package's LICENSE goes beside them. From them it writes src/server/otlp/otlpTrace.json,
// protobufjs's descriptor of ExportTraceServiceRequest and what it holds, which the server
// loads (no .proto parsing at run time; test/unit/otlpDecode.test.ts checks the two agree).
// Run: node scripts/otlp-protos.mjs [--check]
// (--check: exit 1 when the committed files differ from the package's).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PACKAGE = '@opentelemetry/otlp-grpc-exporter-base@0.34.0';
const INTEGRITY =
  'sha512-8k3CIVjf2+/kmnQNKIR8GtPIfRsQ5ZxBVh3uKof54stVXH/nX5ArceuQaoEfFoFQ8S8wayBZ1QsBwdab65UK0g==';
const FILES = [
  'opentelemetry/proto/common/v1/common.proto',
  'opentelemetry/proto/resource/v1/resource.proto',
  'opentelemetry/proto/trace/v1/trace.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'src', 'server', 'otlp', 'proto');
const check = process.argv.includes('--check');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otlp-protos-'));
try {
  const packed = spawnSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', tmp], {
    encoding: 'utf8',
  });
  if (packed.status !== 0) throw new Error(`npm pack ${PACKAGE}: ${packed.stderr.trim()}`);
  const tgz = path.join(tmp, packed.stdout.trim().split('\n').at(-1));
  const integrity = `sha512-${createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
  if (integrity !== INTEGRITY)
    throw new Error(`${PACKAGE}: integrity ${integrity} is not the pinned one`);
  const untar = spawnSync('tar', ['xzf', tgz, '-C', tmp]);
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  const entries = [
    ...FILES.map((f) => [path.join('build', 'protos', f), f]),
    ['LICENSE', 'LICENSE'],
  ];
  let differs = false;
  for (const [from, to] of entries) {
    const text = fs.readFileSync(path.join(tmp, 'package', from), 'utf8');
    const dest = path.join(out, to);
    const current = fs.existsSync(dest) ? fs.readFileSync(dest, 'utf8') : undefined;
    if (current === text) continue;
    differs = true;
    if (check) {
      console.error(`${path.relative(root, dest)} differs from ${PACKAGE}`);
      continue;
    }
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, text);
    console.log(`wrote ${path.relative(root, dest)}`);
  }
  const descriptor = JSON.stringify(otlpDescriptor(out), null, 2) + '\n';
  const descriptorFile = path.join(root, 'src', 'server', 'otlp', 'otlpTrace.json');
  const current = fs.existsSync(descriptorFile) ? fs.readFileSync(descriptorFile, 'utf8') : '';
  if (current !== descriptor) {
    differs = true;
    if (check)
      console.error(
        `${path.relative(root, descriptorFile)} is not the descriptor of the .proto files`,
      );
    else {
      fs.writeFileSync(descriptorFile, descriptor);
      console.log(`wrote ${path.relative(root, descriptorFile)}`);
    }
  }
  if (check && differs) process.exitCode = 1;
  else if (!differs) console.log(`src/server/otlp/proto matches ${PACKAGE}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** protobufjs's JSON descriptor of the trace service's messages, read from the .proto files. */
function otlpDescriptor(protoRoot) {
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(protoRoot, target);
  r.loadSync(FILES.at(-1), { keepCase: false });
  r.resolveAll();
  return r.toJSON();
}
