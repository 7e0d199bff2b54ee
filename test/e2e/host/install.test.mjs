// Tests of the host installer's own mechanics, without installing the host: the clean
// environment its npm runs get (a real npm run around a real npm install), its one-line
// failure messages, and its cache folders, which a failed or killed install never leaves
// looking finished. Run: node --test test/e2e/host/install.test.mjs

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { causeLine, cleanChildEnv, ensureCachedDir, npmInstall } from './install.mjs';

const installer = fileURLToPath(new URL('./install.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-install-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const write = (file, text) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
};

/** Packs a package whose postinstall runs `script` (a JS file's text) into a .tgz. */
function packWithPostinstall(name, script) {
  const dir = path.join(tmp, 'src', name);
  write(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', scripts: { postinstall: 'node postinstall.js' } }),
  );
  write(path.join(dir, 'postinstall.js'), script);
  const r = spawnSync('npm', ['pack', '--silent', '--pack-destination', tmp], {
    cwd: dir,
    encoding: 'utf8',
    env: cleanChildEnv(),
  });
  assert.equal(r.status, 0, r.stderr);
  return path.join(tmp, r.stdout.trim().split('\n').at(-1));
}

function consumer(name, allow) {
  const dir = path.join(tmp, name);
  write(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, private: true, allowScripts: { [allow]: true } }),
  );
  return dir;
}

describe('host installer: the environment of the npm it runs', () => {
  it('drops what an npm around it set and keeps the rest', () => {
    const env = cleanChildEnv({
      HOME: '/home/u',
      LANG: 'C.UTF-8',
      NODE: '/usr/bin/node',
      INIT_CWD: '/work/project',
      COLOR: '0',
      NODE_OPTIONS: '--import tsx',
      NODE_TEST_CONTEXT: 'child-v8',
      npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
      npm_config_node_gyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
      npm_config_nodedir: '/usr',
      npm_lifecycle_event: 'e2e:install',
      npm_lifecycle_script: 'node test/e2e/host/install.mjs',
      npm_package_json: '/work/project/package.json',
      npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
      npm_node_execpath: '/usr/bin/node',
      npm_config_registry: 'https://registry.example/',
      npm_config_https_proxy: 'http://proxy.example:3128',
      PATH: [
        '/work/project/node_modules/.bin',
        '/work/node_modules/.bin',
        '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
        '/usr/local/bin',
        '/usr/bin',
      ].join(path.delimiter),
    });
    assert.deepEqual(env, {
      HOME: '/home/u',
      LANG: 'C.UTF-8',
      npm_config_registry: 'https://registry.example/',
      npm_config_https_proxy: 'http://proxy.example:3128',
      PATH: ['/usr/local/bin', '/usr/bin'].join(path.delimiter),
    });
    assert.equal(cleanChildEnv({ A: '1' }, { A: '2', B: '3' }).A, '2', 'extra wins');
  });

  it(
    'a postinstall under `npm run` sees its own npm, not the outer one',
    { timeout: 120_000 },
    () => {
      // code-server's postinstall reads the Node version from npm_config_user_agent: the outer
      // npm's value (another Node) must not reach it. A made-up outer value makes the leak show
      // even though both npms run on the same Node here.
      const tgz = packWithPostinstall(
        'env-probe',
        `require('fs').writeFileSync(process.env.PROBE_OUT, JSON.stringify({ env: process.env, version: process.version }));`,
      );
      const inner = consumer('inner', 'env-probe');
      const outer = path.join(tmp, 'outer');
      const out = path.join(tmp, 'probe.json');
      write(
        path.join(outer, 'probe.mjs'),
        `import { npmInstall } from ${JSON.stringify(installer)};\n` +
          `await npmInstall(${JSON.stringify(inner)}, [${JSON.stringify(tgz)}], ` +
          `{ logFile: ${JSON.stringify(path.join(tmp, 'logs', 'probe.log'))}, what: 'npm install env-probe' });\n`,
      );
      write(
        path.join(outer, 'package.json'),
        JSON.stringify({ name: 'outer', private: true, scripts: { probe: 'node probe.mjs' } }),
      );
      fs.mkdirSync(path.join(outer, 'node_modules', '.bin'), { recursive: true });
      const r = spawnSync('npm', ['run', 'probe', '--silent'], {
        cwd: outer,
        encoding: 'utf8',
        env: {
          ...cleanChildEnv(),
          PROBE_OUT: out,
          npm_config_user_agent: 'npm/0.0.0 node/v0.0.0-outer linux x64 workspaces/false',
        },
      });
      assert.equal(r.status, 0, `npm run probe: ${r.stdout}\n${r.stderr}`);
      const { env, version } = JSON.parse(fs.readFileSync(out, 'utf8'));
      assert.doesNotMatch(env.npm_config_user_agent, /v0\.0\.0-outer/);
      assert.match(
        env.npm_config_user_agent,
        new RegExp(`node/${version.replace(/\./g, '\\.')}\\b`),
      );
      assert.notEqual(env.npm_lifecycle_event, 'probe');
      assert.notEqual(env.INIT_CWD, outer, 'INIT_CWD is the inner install folder, not the outer');
      assert.ok(
        !env.PATH.split(path.delimiter).includes(path.join(outer, 'node_modules', '.bin')),
        `the outer project's .bin is not on PATH: ${env.PATH}`,
      );
      assert.equal(env.npm_config_cache, path.join(inner, '.npm-cache'), 'a private npm cache');
      assert.ok(!fs.existsSync(path.join(inner, '.npm-cache')), 'the npm cache is removed after');
    },
  );
});

describe('host installer: failures', () => {
  it(
    'names in one line what failed, why, what to do, and keeps the full log',
    { timeout: 120_000 },
    async () => {
      const tgz = packWithPostinstall(
        'needs-node-99',
        `console.log('building...');\nconsole.error('ERROR: needs-node-99 currently requires node v99.');\nprocess.exit(1);\n`,
      );
      const folder = consumer('failing', 'needs-node-99');
      const logFile = path.join(tmp, 'logs', 'failing.log');
      const error = await npmInstall(folder, [tgz], {
        logFile,
        what: 'npm install needs-node-99',
      }).then(
        () => assert.fail('the install should fail'),
        (e) => e,
      );
      assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
      assert.match(error.message, /^npm install needs-node-99 failed \(exit 1\) after \d+\.\d s: /);
      assert.match(error.message, /ERROR: needs-node-99 currently requires node v99\./);
      assert.match(error.message, /run `npm run e2e:install` again/);
      assert.ok(error.message.endsWith(`Full log: ${logFile}`), error.message);
      const logged = fs.readFileSync(logFile, 'utf8');
      assert.match(logged, /building\.\.\./);
      assert.match(logged, /\$ npm install /);
      assert.ok(!fs.existsSync(path.join(folder, '.npm-cache')));
      assert.ok(!fs.existsSync(path.join(folder, '.tmp')));
    },
  );

  it('finds the telling line among npm boilerplate', () => {
    assert.equal(
      causeLine(
        [
          '$ npm install code-server@4.139.1',
          'npm error code 1',
          'npm error path /x/node_modules/code-server',
          'npm error command failed',
          'npm error command sh -c sh ./postinstall.sh',
          'npm error ERROR: code-server currently requires node v24.',
          'npm error We have detected that you are on node v20',
          'npm error A complete log of this run can be found in: /x/debug.log',
        ].join('\n'),
      ),
      'ERROR: code-server currently requires node v24.',
    );
    assert.equal(
      causeLine('npm error code E404\nnpm error 404 Not Found - GET https://r/x - Not found\n'),
      '404 Not Found - GET https://r/x - Not found',
    );
    assert.equal(causeLine('something odd\nlast words\n'), 'last words');
    assert.equal(causeLine(''), '(the log is empty)');
  });
});

describe('host installer: cache folders', () => {
  const marker = '.mlops-e2e-complete.json';

  it('a build that fails leaves nothing a later run would trust', async () => {
    const root = path.join(tmp, 'cache-fail');
    const final = path.join(root, 'thing');
    await assert.rejects(
      ensureCachedDir(final, 'thing', 'bin/thing', async (staging) => {
        write(path.join(staging, 'bin', 'thing'), 'half');
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.ok(!fs.existsSync(final));
    assert.deepEqual(fs.readdirSync(root), [], 'no staging folder and no lock left');
    const built = await ensureCachedDir(final, 'thing', 'bin/thing', async (staging) => {
      write(path.join(staging, 'bin', 'thing'), 'whole');
      return { version: 2 };
    });
    assert.equal(built.version, 2);
    assert.equal(fs.readFileSync(path.join(final, 'bin', 'thing'), 'utf8'), 'whole');
    assert.ok(fs.existsSync(path.join(final, marker)));
  });

  it('a folder without its marker, or without what must exist, is built again', async () => {
    const root = path.join(tmp, 'cache-broken');
    const final = path.join(root, 'thing');
    write(path.join(final, 'bin', 'thing'), 'copied by hand, no marker');
    let builds = 0;
    const build = async (staging) => {
      builds++;
      write(path.join(staging, 'bin', 'thing'), 'built');
      return {};
    };
    await ensureCachedDir(final, 'thing', 'bin/thing', build);
    assert.equal(builds, 1);
    fs.rmSync(path.join(final, 'bin', 'thing'));
    await ensureCachedDir(final, 'thing', 'bin/thing', build);
    assert.equal(builds, 2);
    await ensureCachedDir(final, 'thing', 'bin/thing', build);
    assert.equal(builds, 2, 'a finished folder is reused');
  });

  it(
    'an install killed midway is removed and redone by the next run',
    { timeout: 60_000 },
    async () => {
      const root = path.join(tmp, 'cache-killed');
      const final = path.join(root, 'thing');
      const started = path.join(tmp, 'killed-started');
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { ensureCachedDir } from ${JSON.stringify(installer)};
         import * as fs from 'node:fs';
         await ensureCachedDir(${JSON.stringify(final)}, 'thing', 'bin/thing', async (staging) => {
           fs.mkdirSync(staging + '/bin');
           fs.writeFileSync(staging + '/bin/thing', 'half');
           fs.writeFileSync(${JSON.stringify(started)}, staging);
           await new Promise(() => setInterval(() => {}, 1000));
         });`,
        ],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 30_000;
      while (!fs.existsSync(started)) {
        if (Date.now() > deadline) assert.fail('the child never started building');
        await new Promise((r) => setTimeout(r, 50));
      }
      const staging = fs.readFileSync(started, 'utf8');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.ok(fs.existsSync(staging), 'the killed build left its staging folder');
      assert.ok(!fs.existsSync(final), 'and never looked finished');

      await ensureCachedDir(final, 'thing', 'bin/thing', async (s) => {
        write(path.join(s, 'bin', 'thing'), 'whole');
        return {};
      });
      assert.equal(fs.readFileSync(path.join(final, 'bin', 'thing'), 'utf8'), 'whole');
      assert.ok(!fs.existsSync(staging), 'the leftover staging folder was removed');
      assert.deepEqual(fs.readdirSync(root), ['thing'], 'and the dead owner`s lock taken over');
    },
  );
});
