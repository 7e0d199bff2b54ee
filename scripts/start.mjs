// `npm start`: builds the workbench, fills the demo workspace's store by running
// its training script when the store is empty, and shows what was logged.
// (The VS Code workbench on this demo arrives with the extension issue; until
// then the CLI's view of the demo store is what `npm start` opens.)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(
  import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname),
  '..',
);
const demo = path.join(root, 'examples', 'demo');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run(process.execPath, ['esbuild.mjs'], { cwd: root });
const cli = path.join(root, 'dist', 'cli.js');
if (
  !fs.existsSync(path.join(demo, '.mlops', 'journal-0.log')) &&
  !fs.existsSync(path.join(demo, '.mlops', 'store.db'))
) {
  console.log('Filling the demo store (examples/demo/.mlops) with examples/demo/train.js ...');
  run(process.execPath, ['train.js'], { cwd: demo });
}
console.log('\n$ mlops experiments list');
run(process.execPath, [cli, 'experiments', 'list'], { cwd: demo });
console.log('\n$ mlops runs search "metrics.val_accuracy > 0.8" --order-by "metrics.val_loss ASC"');
run(
  process.execPath,
  [cli, 'runs', 'search', 'metrics.val_accuracy > 0.8', '--order-by', 'metrics.val_loss ASC'],
  { cwd: demo },
);
console.log(
  `\nThe demo store is ${path.join(demo, '.mlops')}. Try: node ${path.relative(process.cwd(), cli)} --help`,
);
