/**
 * deploy/: the install script (shellcheck-clean; run twice in a throwaway root, the second run
 * changes nothing) and the Ansible playbook (syntax check; run twice against this machine with
 * connection local and a root prefix, the second run changes nothing).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from './peers/modbus.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const INSTALL = join(REPO, 'deploy', 'install.sh');
const PLAYBOOK = join(REPO, 'deploy', 'ansible', 'site.yml');
const has = (cmd: string, arg = '--version') => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const IS_ROOT = process.getuid?.() === 0;
const CI = process.env.CI === 'true';

/**
 * An npm stand-in: `install --prefix P SPEC` lays out P/lib/node_modules/estate-gateway as this
 * repository at the spec's version (no registry, no native build), and every call is logged.
 */
function fakeNpm(dir: string): { bin: string; calls: () => string[] } {
  const log = join(dir, 'npm-calls.log');
  const bin = join(dir, 'npm');
  writeFileSync(
    bin,
    `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "${log}"
if [ "$1" = view ]; then echo 0.1.0; exit 0; fi
if [ "$1" = ci ]; then exit 0; fi
if [ "$1" = pack ]; then
  dest="\${@: -1}"; v="$(node -p "require('./package.json').version")"
  mkdir -p "$dest/t/package" && printf '{"name":"estate-gateway","version":"%s"}\\n' "$v" > "$dest/t/package/package.json"
  tar -czf "$dest/estate-gateway-$v.tgz" -C "$dest/t" package && rm -rf "$dest/t"
  echo "estate-gateway-$v.tgz"; exit 0
fi
prefix=""; spec="\${@: -1}"
while [ $# -gt 0 ]; do case "$1" in --prefix) prefix="$2"; shift 2 ;; *) shift ;; esac; done
case "$prefix" in ${tmpdir()}/*) ;; *) echo "fake npm: refusing prefix $prefix" >&2; exit 9 ;; esac
case "$spec" in
  *.tgz) version="$(tar -xOzf "$spec" package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).version')" ;;
  *) version="\${spec#estate-gateway@}" ;;
esac
pkg="$prefix/lib/node_modules/estate-gateway"
rm -rf "$pkg"; mkdir -p "$pkg" "$prefix/bin"
for d in systemd deploy config dist bin console node_modules; do ln -s "${REPO}$d" "$pkg/$d"; done
printf '{"name":"estate-gateway","version":"%s","type":"module"}\\n' "$version" > "$pkg/package.json"
printf '#!/bin/sh\\nexec node "%s/bin/estate-gateway.js" "$@"\\n' "$pkg" > "$prefix/bin/estate-gateway"
chmod +x "$prefix/bin/estate-gateway"
`,
  );
  chmodSync(bin, 0o755);
  return { bin, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

/** A release tarball as npm pack makes it (only its package.json matters to install.sh). */
function tarball(dir: string, version: string): string {
  const stage = mkdtempSync(join(tmpdir(), 'eg-pkg-'));
  mkdirSync(join(stage, 'package'));
  writeFileSync(join(stage, 'package', 'package.json'), JSON.stringify({ name: 'estate-gateway', version }));
  const file = join(dir, `estate-gateway-${version}.tgz`);
  expect(spawnSync('tar', ['-czf', file, '-C', stage, 'package']).status).toBe(0);
  return file;
}

/** A throwaway root with the host's user and group databases. */
function throwawayRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'eg-root-'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  for (const f of ['passwd', 'group', 'shadow', 'gshadow']) if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(root, 'etc', f));
  return root;
}

describe('deploy/install.sh', () => {
  it.runIf(has('shellcheck') || CI)('is shellcheck-clean', () => {
    const r = spawnSync('shellcheck', [INSTALL], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(IS_ROOT)(
    'installs offline: a release made with its dependencies (scripts/release.sh) installs and runs with no npm and no registry',
    () => {
      // the release is made here, from this built checkout (what a machine of the gateways' kind does)
      const out = mkdtempSync(join(tmpdir(), 'eg-release-'));
      const made = spawnSync('bash', [join(REPO, 'scripts', 'release.sh'), '--out', out], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const release = made.stdout.trim().split('\n').at(-1)!;
      expect(release).toMatch(new RegExp(`estate-gateway-\\d+\\.\\d+\\.\\d+-linux-${process.arch}-node${process.versions.node.split('.')[0]}\\.tgz$`));
      // the gateway has no network: npm points at nothing, and any npm run at all fails the install
      const noNpm = join(mkdtempSync(join(tmpdir(), 'eg-no-npm-')), 'npm');
      writeFileSync(noNpm, '#!/bin/sh\necho "npm was run: $*" >&2\nexit 97\n', { mode: 0o755 });
      const root = throwawayRoot();
      const env = { ...process.env, ESTATE_GATEWAY_NPM: noNpm, npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true' };
      const r = spawnSync('bash', [INSTALL, '--root', root, '--release', release, '--site-id', 'music-square', '--gateway-id', 'gw-north'], {
        encoding: 'utf8',
        env,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/no npm, no network/);
      // what was installed runs: the command, the starter config, and the native journal module
      const bin = join(root, 'usr/local/bin/estate-gateway');
      expect(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
      const validated = spawnSync(bin, ['validate', '--config', join(root, 'etc/estate-gateway/site.yaml')], { encoding: 'utf8' });
      expect(validated.status, validated.stdout + validated.stderr).toBe(0);
      const pkg = join(root, 'usr/local/lib/node_modules/estate-gateway');
      const sqlite = spawnSync(
        process.execPath,
        ['-e', `new (require(${JSON.stringify(join(pkg, 'node_modules/better-sqlite3'))}))(':memory:').exec('select 1')`],
        { encoding: 'utf8' },
      );
      expect(sqlite.status, sqlite.stderr).toBe(0);
      for (const dev of ['@biomejs', 'vitest', 'typescript', 'esbuild', 'playwright-core']) expect(existsSync(join(pkg, 'node_modules', dev)), dev).toBe(false); // no development tools on a gateway
      // a release for another kind of machine is refused before anything is written
      const other = join(out, 'other.tgz');
      const stage = mkdtempSync(join(tmpdir(), 'eg-other-'));
      spawnSync('tar', ['-xzf', release, '-C', stage]);
      writeFileSync(join(stage, 'package/RELEASE'), 'linux riscv64 node18\n');
      spawnSync('tar', ['-czf', other, '-C', stage, 'package']);
      const refused = spawnSync('bash', [INSTALL, '--root', throwawayRoot(), '--release', other], { encoding: 'utf8', env });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/was built for linux riscv64 node18; this machine is linux/);
    },
    120_000,
  );

  it.runIf(IS_ROOT)(
    'installs into an empty root (an image being built): the user database is made, nothing is printed on stderr',
    () => {
      const root = mkdtempSync(join(tmpdir(), 'eg-empty-root-'));
      const npm = fakeNpm(mkdtempSync(join(tmpdir(), 'eg-npm-')));
      const r = spawnSync('bash', [INSTALL, '--root', root, '--package', tarball(root, '0.1.0'), '--site-id', 'music-square', '--gateway-id', 'gw-north'], {
        encoding: 'utf8',
        env: { ...process.env, ESTATE_GATEWAY_NPM: npm.bin },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^estate-gateway:x:\d+:\d+::\/var\/lib\/estate-gateway:\/usr\/sbin\/nologin$/m);
      expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^input:x:\d+:estate-gateway$/m);
      expect(statSync(join(root, 'etc/shadow')).mode & 0o777).toBe(0o640);
    },
    60_000,
  );

  it.runIf(IS_ROOT)(
    'installs into a throwaway root, and a second run changes nothing',
    () => {
      const root = throwawayRoot();
      const npm = fakeNpm(mkdtempSync(join(tmpdir(), 'eg-npm-')));
      const hostPasswd = readFileSync('/etc/passwd', 'utf8');
      const run = (...args: string[]) =>
        spawnSync('bash', [INSTALL, '--root', root, ...args], { encoding: 'utf8', env: { ...process.env, ESTATE_GATEWAY_NPM: npm.bin } });

      const tgz = (v: string) => tarball(root, v);
      // Ids are checked before anything is written, with the id that was probably meant.
      const refused = run('--package', tgz('0.1.0'), '--site-id', 'Music Square', '--gateway-id', 'gw-north');
      expect([refused.status, refused.stderr]).toEqual([
        1,
        'install.sh: --site-id "Music Square": expected lowercase letters, digits and dashes, e.g. --site-id music-square\n',
      ]);
      expect(existsSync(join(root, 'etc/estate-gateway'))).toBe(false);
      expect(npm.calls()).toEqual([]);

      const first = run('--package', tgz('0.1.0'), '--site-id', 'music-square', '--gateway-id', 'gw-north', '--site-name', '音乐广场 "A区" / 北门: 1');
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(
        /changed: user estate-gateway; .*estate-gateway in gpio; estate-gateway in dialout; .*estate-gateway in input; directory \/etc\/estate-gateway; .*estate-gateway none -> 0\.1\.0; unit estate-gateway\.service; starter config site\.yaml/,
      );
      const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
      expect(passwd).toMatch(/^estate-gateway:x:\d+:\d+::\/var\/lib\/estate-gateway:\/usr\/sbin\/nologin$/m);
      const group = readFileSync(join(root, 'etc/group'), 'utf8');
      expect(group).toMatch(/^gpio:x:\d+:(.*,)?estate-gateway(,|$)/m);
      expect(group).toMatch(/^dialout:x:\d+:(.*,)?estate-gateway(,|$)/m);
      expect(group).toMatch(/^input:x:\d+:(.*,)?estate-gateway(,|$)/m);
      expect(statSync(join(root, 'var/lib/estate-gateway')).mode & 0o777).toBe(0o750);
      expect(statSync(join(root, 'etc/estate-gateway')).mode & 0o777).toBe(0o750);
      expect(readFileSync(join(root, 'etc/systemd/system/estate-gateway.service'), 'utf8')).toBe(
        readFileSync(join(REPO, 'systemd/estate-gateway.service'), 'utf8'),
      );
      const site = readFileSync(join(root, 'etc/estate-gateway/site.yaml'), 'utf8');
      expect(site).toContain(`site: { id: music-square, name: '音乐广场 "A区" / 北门: 1' }`); // written as YAML, not spliced in
      expect(site).toContain('gateway: { id: gw-north, dataDir: /var/lib/estate-gateway }');
      expect(statSync(join(root, 'etc/estate-gateway/site.yaml')).mode & 0o777).toBe(0o640);
      expect(
        spawnSync(process.execPath, [join(REPO, 'bin/estate-gateway.js'), 'validate', '--config', join(root, 'etc/estate-gateway/site.yaml')]).status,
      ).toBe(0);
      expect(npm.calls()).toHaveLength(1);

      const second = run('--package', tgz('0.1.0'), '--site-id', 'other', '--gateway-id', 'other');
      expect(second.status).toBe(0);
      expect(second.stdout).toContain('nothing to change: estate-gateway 0.1.0 is installed and configured');
      expect(npm.calls()).toHaveLength(1);
      expect(readFileSync(join(root, 'etc/estate-gateway/site.yaml'), 'utf8')).toBe(site); // an existing config is never rewritten

      const upgrade = run('--package', tgz('0.2.0'));
      expect(upgrade.stdout).toMatch(/changed: estate-gateway 0\.1\.0 -> 0\.2\.0$/m);
      const custom = join(root, 'custom.yaml');
      writeFileSync(custom, site.replace('gw-north', 'gw-south'));
      const replaced = run('--package', tgz('0.2.0'), '--config', custom);
      expect(replaced.stdout).toMatch(/changed: config site\.yaml$/m);
      expect(readFileSync(join(root, 'etc/estate-gateway/site.yaml.bak'), 'utf8')).toBe(site);
      expect(run('--package', tgz('0.2.0'), '--config', custom).stdout).toContain('nothing to change');
      // An invalid --config is refused with validate's lines, nothing changed.
      const broken = join(root, 'broken.yaml');
      writeFileSync(broken, site.replace('lockType: fail-secure', 'lockType: failsecure'));
      const bad = run('--package', tgz('0.2.0'), '--config', broken);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('devices[0].lockType: expected one of fail-secure|fail-safe, got "failsecure"');
      expect(readFileSync(join(root, 'etc/estate-gateway/site.yaml'), 'utf8')).toBe(readFileSync(custom, 'utf8'));
      expect(readFileSync('/etc/passwd', 'utf8')).toBe(hostPasswd); // the machine itself was not touched
    },
    60_000,
  );

  it.runIf(IS_ROOT)(
    'by default installs the checkout it is run from, packed here: no registry',
    () => {
      const root = throwawayRoot();
      const npm = fakeNpm(mkdtempSync(join(tmpdir(), 'eg-npm-')));
      const r = spawnSync('bash', [INSTALL, '--root', root, '--site-id', 'music-square', '--gateway-id', 'gw-1'], {
        encoding: 'utf8',
        env: { ...process.env, ESTATE_GATEWAY_NPM: npm.bin },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const calls = npm.calls();
      expect(calls.some((c) => c.startsWith('view'))).toBe(false); // nothing asked of a registry
      expect(calls[0]).toMatch(/^pack --ignore-scripts --pack-destination /);
      expect(calls[1]).toMatch(/^install --global --prefix .*\/estate-gateway-0\.1\.0\.tgz$/);
    },
    60_000,
  );

  it('refuses to run as anyone but root, and explains options', () => {
    if (IS_ROOT) {
      const help = spawnSync('bash', [INSTALL, '--help'], { encoding: 'utf8' });
      expect(help.stdout).toContain('Idempotent');
      expect(help.stdout).not.toMatch(/set -euo|PACKAGE=/); // the help, and only the help
      const bad = spawnSync('bash', [INSTALL, '--frobnicate'], { encoding: 'utf8' });
      expect([bad.status, bad.stderr]).toEqual([1, 'install.sh: unknown option --frobnicate (see --help)\n']);
    } else {
      expect(spawnSync('bash', [INSTALL], { encoding: 'utf8' }).stderr).toContain('run as root');
    }
  });
});

describe('from a clean clone, with only the README as guide (real npm; CI, or EG_E2E_INSTALL=1)', () => {
  it.runIf(IS_ROOT && (CI || process.env.EG_E2E_INSTALL === '1'))(
    'install.sh --root builds and installs the clone, the installed gateway passes doctor on a sim config and serves the console',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'eg-e2e-'));
      const clone = join(work, 'estate-gateway');
      expect(spawnSync('git', ['clone', '--quiet', '--depth', '1', `file://${REPO}`, clone], { encoding: 'utf8' }).status).toBe(0);
      expect(existsSync(join(clone, 'node_modules'))).toBe(false); // clean: nothing built, nothing installed
      const root = throwawayRoot();
      // The README's install line, in a throwaway root.
      const r = spawnSync(
        'bash',
        [join(clone, 'deploy/install.sh'), '--root', root, '--site-id', 'e2e-site', '--gateway-id', 'gw-e2e', '--site-name', '测试小区 "E2E"', '--no-start'],
        {
          encoding: 'utf8',
          timeout: 900_000,
        },
      );
      expect(r.stderr.replace(/^npm warn .*\n/gm, '')).toBe('');
      expect(r.status).toBe(0);
      const bin = join(root, 'usr/local/bin/estate-gateway');
      expect(spawnSync(bin, ['validate', '--config', join(root, 'etc/estate-gateway/site.yaml')], { encoding: 'utf8' }).stdout).toMatch(
        /^ok: site e2e-site, gateway gw-e2e/,
      );
      const port = await freePort();
      const site = join(work, 'sim.yaml');
      writeFileSync(
        site,
        `site: { id: e2e-site }\ngateway: { id: gw-e2e, dataDir: ${join(work, 'data')} }\nconsole: { listen: "127.0.0.1:${port}" }\nio: [{ id: sim, type: sim }]\ndevices:\n  - { id: door, type: door, lock: { io: sim, pin: 1 }, lockType: fail-secure }\n`,
      );
      const doctor = spawnSync(bin, ['doctor', '--config', site], { encoding: 'utf8' });
      expect(doctor.stdout).toContain('all checks passed');
      expect(doctor.status).toBe(0);
      const { spawn } = await import('node:child_process');
      const child = spawn(bin, ['run', '--config', site, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      try {
        // A loaded CI machine (this runs beside the whole suite) can take several seconds to start it.
        let page = '';
        for (let i = 0; i < 600 && !page && child.exitCode === null; i++) {
          page = await fetch(`http://127.0.0.1:${port}/`).then(
            (res) => (res.ok ? res.text() : ''),
            () => '',
          );
          if (!page) await new Promise((res) => setTimeout(res, 100));
        }
        expect(page, `the installed gateway did not serve the console; it said: ${output}`).toContain('小区网关');
        expect(await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()).toMatchObject({ status: 'ok', devices: { ok: 1, fault: 0 } });
      } finally {
        child.kill('SIGTERM');
      }
    },
    900_000,
  );
});

describe('deploy/ansible', () => {
  it.runIf(has('ansible-playbook') || CI)('passes ansible-playbook --syntax-check', () => {
    const r = spawnSync('ansible-playbook', ['--syntax-check', '-i', join(REPO, 'deploy/ansible/inventory.example.yml'), PLAYBOOK], { encoding: 'utf8' });
    expect(r.stderr.replace(/\[WARNING\].*\n/g, '')).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf((has('ansible-playbook') && IS_ROOT) || CI)(
    'runs against this machine in a throwaway root, and a second run changes nothing',
    () => {
      const root = throwawayRoot();
      const npm = fakeNpm(mkdtempSync(join(tmpdir(), 'eg-npm-')));
      const secrets = mkdtempSync(join(tmpdir(), 'eg-secrets-'));
      const inventory = join(secrets, 'inventory.yml');
      writeFileSync(
        inventory,
        `gateways:
  hosts:
    gw-north:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
      eg_site_id: music-square
      eg_gateway_id: gw-north
      eg_broker_url: "mqtt://127.0.0.1:1883"
      eg_broker_username: gw-north
      eg_broker_password: "s3cret-for-gw-north"
  vars:
    eg_package_file: "${tarball(secrets, '0.1.0')}"
    eg_root: "${root}"
    eg_npm: "${npm.bin}"
`,
      );
      const hostPasswd = readFileSync('/etc/passwd', 'utf8');
      const play = () =>
        spawnSync('ansible-playbook', ['-i', inventory, PLAYBOOK], {
          encoding: 'utf8',
          env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'False' },
        });
      const first = play();
      expect(first.stdout.slice(-2000) + first.stderr).toMatch(/gw-north\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0/);
      const site = readFileSync(join(root, 'etc/estate-gateway/site.yaml'), 'utf8');
      expect(site).toContain('id: gw-north');
      expect(site).toContain('url: "mqtt://127.0.0.1:1883"');
      expect(site).not.toContain('s3cret');
      expect(readFileSync(join(root, 'etc/estate-gateway/mqtt-password'), 'utf8')).toBe('s3cret-for-gw-north\n');
      expect(statSync(join(root, 'etc/estate-gateway/mqtt-password')).mode & 0o777).toBe(0o640);
      expect(
        spawnSync(process.execPath, [join(REPO, 'bin/estate-gateway.js'), 'validate', '--config', join(root, 'etc/estate-gateway/site.yaml')]).status,
      ).toBe(0);
      const second = play();
      expect(second.stdout.slice(-2000) + second.stderr).toMatch(/gw-north\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
      expect(npm.calls().filter((c) => c.startsWith('install'))).toHaveLength(1);
      expect(readFileSync('/etc/passwd', 'utf8')).toBe(hostPasswd); // the machine itself was not touched
    },
    180_000,
  );
});
