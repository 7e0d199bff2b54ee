// Writes the JSON Schemas the extension contributes to the editor, generated from
// the zod schemas that validate the same files: `npm run schemas`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suiteJsonSchema } from '../src/core/evals/suite.ts';

const out = path.join(import.meta.dirname, '..', 'schemas', 'eval-suite.schema.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(suiteJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), out)}`);
