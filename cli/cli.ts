/**
 * The `estate-gateway` command. The only place that reads argv and calls process.exit.
 * Exit codes (README, "Commands"): 0 ok, 1 runtime failure, 2 bad usage or invalid config.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Problem } from '../schema/problems.js';
import { problemLine } from '../schema/problems.js';
import { processOutput } from './commands/output.js';
import { GatewayError, errorMessage, isGatewayError } from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import { LOG_LEVELS, createLogger, createPrettyLogger } from '../core/log.js';
import { packagePath } from '../core/paths.js';

const USAGE = `Usage: estate-gateway <command> [options]

Commands:
  run --config FILE [--data-dir DIR] [--log-level LEVEL]
                      run the gateway in the foreground (what systemd starts)
  validate --config FILE
                      check a site config; one line per problem, exit 2 if invalid
  demo [--listen HOST:PORT] [--duration SEC]
                      a simulated estate with the console, no hardware needed (npm start)
  events --config FILE [--pending] [--after SEQ] [--limit N] [--type T] [--json [--show-plates]]
                      read the journal (* marks events not yet forwarded upstream);
                      plates are masked as in the logs unless --show-plates
  doctor --config FILE [--timeout SEC]
                      commissioning check: boards, buses, meters, cameras, readers,
                      terminals, the pass key, broker, disk and clock; ok/FAIL with a
                      hint per line, exit 1 on any FAIL
  pass check TOKEN --config FILE [--door ID]
                      what a reader would make of a visitor pass, offline, without
                      using it; exit 0 if it would open (that door) now, 1 if not
  init --site-id ID --gateway-id ID [--site-name NAME] --output FILE [--force]
                      write a starter site config (what install.sh does on a new gateway)
  user add NAME --role staff|installer|admin --config FILE
  user list | remove NAME | passwd NAME --config FILE
                      console accounts; the password is prompted for, or read from
                      the first line of stdin when it is not a terminal

Options:
  -h, --help          show this help
  -v, --version       print the version

Log levels: ${LOG_LEVELS.join(', ')}
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid config.`;

export function version(): string {
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function usageError(message: string): never {
  throw new GatewayError('USAGE', message);
}

function parse(args: string[], options: ParseArgsConfig['options']) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    return usageError(errorMessage(err));
  }
}

function logLevel(value: unknown, fallback: LogLevel): LogLevel {
  if (value === undefined) return fallback;
  if (!LOG_LEVELS.includes(value as LogLevel)) usageError(`--log-level: expected one of ${LOG_LEVELS.join('|')}, got "${String(value)}"`);
  return value as LogLevel;
}

function requireConfig(values: Record<string, unknown>): string {
  const file = values.config;
  if (typeof file !== 'string' || file === '') usageError('--config FILE is required');
  return file;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = processOutput;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      out.stdout(USAGE);
      return command === undefined ? 2 : 0;
    case '-v':
    case '--version':
      out.stdout(version());
      return 0;
    case 'validate': {
      const values = parse(rest, { config: { type: 'string', short: 'c' } });
      return (await import('./commands/validate.js')).validateCommand(requireConfig(values), out);
    }
    case 'run': {
      const values = parse(rest, {
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
      });
      const configFile = requireConfig(values);
      const log = createLogger({ level: logLevel(values['log-level'], 'info') });
      return (await import('./commands/run.js')).runCommand({ configFile, dataDir: values['data-dir'] as string | undefined, log, version: version() });
    }
    case 'demo': {
      const values = parse(rest, {
        listen: { type: 'string' },
        duration: { type: 'string' },
        'log-level': { type: 'string' },
      });
      const duration = values.duration === undefined ? undefined : Number(values.duration);
      if (duration !== undefined && !(duration > 0)) usageError(`--duration: expected a number of seconds, got "${String(values.duration)}"`);
      const log = await createPrettyLogger(logLevel(values['log-level'], 'warn'));
      return (await import('./commands/demo.js')).demoCommand({
        log,
        version: version(),
        out,
        listen: values.listen as string | undefined,
        durationSec: duration,
        color: process.stdout.isTTY === true,
      });
    }
    case 'events': {
      const values = parse(rest, {
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        pending: { type: 'boolean' },
        after: { type: 'string' },
        limit: { type: 'string' },
        type: { type: 'string' },
        json: { type: 'boolean' },
        'show-plates': { type: 'boolean' },
      });
      const int = (name: string, fallback: number, min: number) => {
        const v = values[name];
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) usageError(`--${name}: expected an integer >= ${min}, got "${String(v)}"`);
        return n;
      };
      return (await import('./commands/events.js')).eventsCommand(
        {
          configFile: requireConfig(values),
          dataDir: values['data-dir'] as string | undefined,
          pending: values.pending === true,
          after: int('after', 0, 0),
          limit: int('limit', 100, 1),
          type: values.type as string | undefined,
          json: values.json === true,
          showPlates: values['show-plates'] === true,
          color: process.stdout.isTTY === true,
        },
        out,
      );
    }
    case 'user': {
      const [action, ...more] = rest;
      let positional: string | undefined;
      const flags = more.filter((a, i) => {
        if (i === 0 && !a.startsWith('-')) {
          positional = a;
          return false;
        }
        return true;
      });
      const values = parse(flags, { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' }, role: { type: 'string' } });
      return (await import('./commands/user.js')).userCommand(
        {
          action,
          name: positional,
          role: values.role as string | undefined,
          configFile: requireConfig(values),
          ...(values['data-dir'] ? { dataDir: values['data-dir'] as string } : {}),
        },
        out,
      );
    }
    case 'init': {
      const values = parse(rest, {
        'site-id': { type: 'string' },
        'gateway-id': { type: 'string' },
        'site-name': { type: 'string' },
        output: { type: 'string', short: 'o' },
        force: { type: 'boolean' },
      });
      for (const flag of ['site-id', 'gateway-id', 'output'] as const)
        if (typeof values[flag] !== 'string' || values[flag] === '') usageError(`--${flag} is required`);
      return (await import('./commands/init.js')).initCommand(
        {
          siteId: values['site-id'] as string,
          gatewayId: values['gateway-id'] as string,
          siteName: values['site-name'] as string | undefined,
          output: values.output as string,
          force: values.force === true,
        },
        out,
      );
    }
    case 'pass': {
      const [action, token, ...more] = rest;
      if (action !== 'check') usageError(`pass: expected "pass check TOKEN --config FILE", got "${action ?? ''}"`);
      if (!token || token.startsWith('-')) usageError('pass check: expected the pass (EGP1....) after check');
      const values = parse(more, { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' }, door: { type: 'string' } });
      return (await import('./commands/pass.js')).passCheckCommand(
        { configFile: requireConfig(values), dataDir: values['data-dir'] as string | undefined, token, door: values.door as string | undefined },
        out,
      );
    }
    case 'doctor': {
      const values = parse(rest, { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string' }, timeout: { type: 'string' } });
      const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout) * 1000;
      if (!(timeoutMs > 0)) usageError(`--timeout: expected a number of seconds, got "${String(values.timeout)}"`);
      return (await import('./commands/doctor.js')).doctorCommand(
        {
          configFile: requireConfig(values),
          ...(values['data-dir'] ? { dataDir: values['data-dir'] as string } : {}),
          log: createLogger({ level: 'silent' }),
          timeoutMs,
        },
        out,
      );
    }
    default:
      return usageError(`unknown command "${command}"`);
  }
}

function report(err: unknown): number {
  if (isGatewayError(err, 'USAGE')) {
    process.stderr.write(`estate-gateway: ${err.message}\nRun 'estate-gateway --help' for usage.\n`);
    return 2;
  }
  if (isGatewayError(err, 'CONFIG_INVALID')) {
    for (const p of err.context.problems as Problem[]) process.stderr.write(`${problemLine(p)}\n`);
    process.stderr.write(`estate-gateway: ${err.message}\n`);
    return 2;
  }
  if (isGatewayError(err, 'CONFIG_UNREADABLE')) {
    process.stderr.write(`estate-gateway: ${err.message}\n`);
    return 2;
  }
  const code = isGatewayError(err) ? err.code : 'INTERNAL';
  process.stderr.write(`estate-gateway: ${code}: ${errorMessage(err)}\n`);
  return 1;
}

/** The first error writing to stdout or stderr (a reader that went away: EPIPE). */
const outputErrors = new Map<NodeJS.WriteStream, NodeJS.ErrnoException>();

/**
 * Resolves once what was written to `stream` has left the process (into a pipe, however slow its
 * reader), with the error that stopped it, if one did. Exiting before this cut `events --json`
 * short at the pipe's 64 KB.
 */
function drained(stream: NodeJS.WriteStream): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const failed = outputErrors.get(stream);
    if (failed || stream.destroyed || !stream.writable) return resolve(failed);
    stream.write('', (err) => resolve(err ?? outputErrors.get(stream) ?? undefined));
  });
}

/** Exits with `code` once every line is out; non-zero if the output could not be written (a closed pipe aside). */
async function exitWhenWritten(code: number): Promise<never> {
  const failed = (await drained(process.stdout)) ?? (await drained(process.stderr));
  if (failed && failed.code !== 'EPIPE') code ||= 1;
  process.exit(code);
}

export function cli(argv: string[]): void {
  process.on('uncaughtException', (err) => {
    process.stderr.write(`estate-gateway: uncaught: ${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => void (outputErrors.has(stream) || outputErrors.set(stream, err)));
  main(argv).then(
    (code) => exitWhenWritten(code),
    (err: unknown) => exitWhenWritten(report(err)),
  );
}
