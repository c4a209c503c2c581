/**
 * Upgrades with rollback (docs/upgrades.md). Releases live beside each other in the data dir:
 *
 *   releases/<version>/      a whole installed release (bin, dist, node_modules), as extracted
 *   releases/current         symlink to the release that runs
 *   releases/trial.json      the release being tried: version, the one before it, start attempts
 *   releases/rolled-back.json why the last trial was undone (reported by the release that runs next)
 *
 * The installed launcher (bin/estate-gateway.js) is the stable part: before anything else it
 * counts a trial's start attempts and, after MAX_START_ATTEMPTS, puts `current` back itself, so
 * a release that cannot even start is undone without its own help. A release that starts is
 * judged by the gateway after the trial's deadline (devices that were fine and are faulted now,
 * an uplink that was connected and is not) and either confirmed or undone the same way; systemd
 * (Restart=always) starts whatever `current` then names.
 *
 * The launcher is plain JavaScript and cannot import this module: the file names and the rule
 * for undoing a trial are spelt out in both, and test/upgrade.test.ts exercises both paths.
 */
import { createHash, verify } from 'node:crypto';
import { loadEd25519PublicKey } from '../core/keys.js';
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../core/errors.js';

export const RELEASES_DIR = 'releases';
export const MAX_START_ATTEMPTS = 3;
/** A whole release with its node_modules is tens of MB; this is far beyond any. */
export const MAX_RELEASE_BYTES = 512 * 1024 * 1024;
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export interface Trial {
  version: string;
  /** the release that ran before ('' for the installed package itself) */
  previous: string;
  attempts: number;
  deadlineSec: number;
  commandId: string;
  /** device id → fault code before the upgrade, for the health judgement */
  baseline: Record<string, string | null>;
  uplinkWasConnected: boolean | null;
}

export interface RollBack {
  version: string;
  previous: string;
  reason: string;
  commandId: string;
}

export const releasesDir = (dataDir: string) => join(dataDir, RELEASES_DIR);

export function currentRelease(dataDir: string): string {
  try {
    return readlinkSync(join(releasesDir(dataDir), 'current'));
  } catch {
    return '';
  }
}

/** Points `current` at `version` ('' removes it: the installed package runs), atomically. */
export function switchTo(dataDir: string, version: string): void {
  const dir = releasesDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'current');
  if (!version) {
    rmSync(link, { force: true });
    return;
  }
  const tmp = join(dir, `current.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(version, tmp);
  renameSync(tmp, link);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export const trialFile = (dataDir: string) => join(releasesDir(dataDir), 'trial.json');
export const rolledBackFile = (dataDir: string) => join(releasesDir(dataDir), 'rolled-back.json');

/** Undoes a trial: the release before it runs next, and says why once it does. */
export function undoTrial(dataDir: string, trial: Trial, reason: string): void {
  switchTo(dataDir, trial.previous);
  writeFileSync(
    rolledBackFile(dataDir),
    JSON.stringify({ version: trial.version, previous: trial.previous, reason, commandId: trial.commandId } satisfies RollBack),
  );
  rmSync(trialFile(dataDir), { force: true });
}

export interface ReleaseOffer {
  /** an https URL, or a file already on the gateway */
  url?: unknown;
  file?: unknown;
  sha256: unknown;
  /** base64 Ed25519 signature of the tarball's bytes by the fleet's key */
  signature: unknown;
  version: unknown;
}

export type Fetched = { ok: true; tarball: string; version: string } | { ok: false; error: 'invalid' | 'bad-signature' | 'download-failed'; message: string };

/**
 * Fetches and checks a release: its sha256 as announced, its signature by the fleet's key, its
 * version as announced. Nothing is installed until all three hold.
 */
export async function fetchRelease(offer: ReleaseOffer, o: { dataDir: string; publicKey: string; ca?: Buffer | undefined }): Promise<Fetched> {
  if (typeof offer.version !== 'string' || !VERSION.test(offer.version))
    return { ok: false, error: 'invalid', message: 'version: expected a release version such as 0.2.0' };
  if (typeof offer.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(offer.sha256))
    return { ok: false, error: 'invalid', message: 'sha256: expected 64 lowercase hex digits' };
  if (typeof offer.signature !== 'string' || offer.signature.length > 200)
    return { ok: false, error: 'invalid', message: 'signature: expected the base64 Ed25519 signature of the tarball' };
  const dir = join(releasesDir(o.dataDir), 'incoming');
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `estate-gateway-${offer.version}.tgz`);
  if (typeof offer.url === 'string') {
    if (!/^https:\/\//.test(offer.url)) return { ok: false, error: 'invalid', message: 'url: expected an https:// URL' };
    try {
      await download(offer.url, tarball, o.ca);
    } catch (err) {
      rmSync(tarball, { force: true }); // what arrived before it failed
      return { ok: false, error: 'download-failed', message: `${offer.url}: ${errorMessage(err)}` };
    }
  } else if (typeof offer.file === 'string') {
    if (!existsSync(offer.file) || !statSync(offer.file).isFile())
      return { ok: false, error: 'invalid', message: `file: ${offer.file} is not a file on the gateway` };
    writeFileSync(tarball, readFileSync(offer.file));
  } else {
    return { ok: false, error: 'invalid', message: 'expected url (https) or file' };
  }
  const bytes = readFileSync(tarball);
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash !== offer.sha256) {
    rmSync(tarball, { force: true });
    return { ok: false, error: 'invalid', message: `sha256 is ${hash}, not the ${offer.sha256} announced` };
  }
  let good = false;
  try {
    good = verify(null, bytes, loadEd25519PublicKey(o.publicKey), Buffer.from(offer.signature, 'base64'));
  } catch {
    good = false;
  }
  if (!good) {
    rmSync(tarball, { force: true });
    return { ok: false, error: 'bad-signature', message: "the release is not signed by the fleet's key" };
  }
  return { ok: true, tarball, version: offer.version };
}

/** Extracts a checked release beside the others (releases/<version>) and checks its version. */
export async function installRelease(dataDir: string, tarball: string, version: string): Promise<void> {
  try {
    await extractRelease(dataDir, tarball, version);
  } finally {
    // installed or refused, the download has served: repeated refusals must not fill the disk
    rmSync(tarball, { force: true });
  }
}

/** Removes what an upgrade that was cut short (a crash, a power cut) left in releases/incoming. */
export function cleanIncoming(dataDir: string): void {
  rmSync(join(releasesDir(dataDir), 'incoming'), { recursive: true, force: true });
}

async function extractRelease(dataDir: string, tarball: string, version: string): Promise<void> {
  const dir = releasesDir(dataDir);
  const staging = join(dir, `${version}.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await new Promise<void>((resolve, reject) =>
      execFile('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1', '--no-same-owner'], (err, _o, stderr) =>
        err ? reject(new Error(stderr.trim() || err.message)) : resolve(),
      ),
    );
    const pkg = readJson<{ name?: string; version?: string }>(join(staging, 'package.json'));
    if (pkg?.name !== 'estate-gateway' || pkg.version !== version) {
      throw new Error(`the tarball holds ${pkg?.name ?? 'no package'} ${pkg?.version ?? ''}, not estate-gateway ${version}`);
    }
    if (!existsSync(join(staging, 'bin', 'estate-gateway.js'))) throw new Error('the release has no bin/estate-gateway.js');
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  rmSync(join(dir, version), { recursive: true, force: true });
  renameSync(staging, join(dir, version));
}

function download(url: string, file: string, ca?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ...(ca ? { ca } : {}), timeout: 60_000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RELEASE_BYTES) res.destroy(new Error(`over ${MAX_RELEASE_BYTES} bytes`));
      });
      pipeline(res, createWriteStream(file)).then(resolve, reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 60 s')));
    req.on('error', reject);
  });
}
