/**
 * The remote commands, as a table: each action's fields (a zod schema: a command with a bad field
 * is refused `invalid`, naming the field, before anything acts), what it does, and the errors it
 * can answer with. gateway/remote.ts checks a command's envelope (signature, freshness, once) and
 * then runs its action from here; docs/api.md's table of commands is made from this one
 * (`commandsTable`, checked by test/commands.test.ts).
 */
import { z } from 'zod';
import type { AccessControl } from '../access/access.js';
import type { ListChange } from '../access/synced-list.js';
import type { Device } from '../devices/types.js';
import type { ConfigControl } from './config-control.js';
import type { UpgradeControl } from './upgrade-control.js';

export type CommandError =
  | 'retained'
  | 'invalid'
  | 'bad-signature'
  | 'expired'
  | 'replayed'
  | 'unknown-action'
  | 'unknown-device'
  | 'unknown-pending'
  | 'unknown-car-park'
  | 'stale-version'
  | 'unsafe'
  | 'fire-alarm'
  | 'not-supported'
  | 'offline'
  | 'download-failed'
  | 'busy';

export type CommandReply =
  | { id: string | null; ok: true; [extra: string]: unknown }
  | { id: string | null; ok: false; error: CommandError; message: string; problems?: string[] };

/** What an action is given besides its fields. */
export interface CommandContext {
  id: string;
  /** who at the platform sent it (`by`), when it says */
  by: string | undefined;
  devices: ReadonlyMap<string, Device>;
  access: AccessControl;
  config: ConfigControl | undefined;
  upgrade: UpgradeControl | undefined;
}

interface ActionSpec<S extends z.ZodType> {
  fields: S;
  /** what it does, for the docs */
  does: string;
  /** the errors it can answer with (besides `invalid` for a bad field), for the docs */
  errors: readonly CommandError[];
  run(cmd: z.output<S>, ctx: CommandContext): CommandReply;
}

const action = <S extends z.ZodType>(a: ActionSpec<S>): ActionSpec<S> => a;
const fields = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

const deviceId = z.string({ error: 'expected the id of a device' }).min(1).max(64).meta({ description: 'the device' });
const listVersion = z.unknown().optional().meta({ description: "the version this change makes (an older one than the list's is refused)" });
const list = (what: string, example: string) => z.unknown().meta({ description: `${what}, e.g. ${example}` });
const isoTime = z
  .string({ error: 'expected an ISO 8601 time such as 2026-11-22T02:00:30Z' })
  .refine((s) => Number.isFinite(Date.parse(s)), { error: 'expected an ISO 8601 time such as 2026-11-22T02:00:30Z' });

function fail(id: string | null, error: CommandError, message: string): CommandReply {
  return { id, ok: false, error, message };
}

/** The reply to a change of a synced list (plates, cards). */
function listReply(id: string, change: ListChange): CommandReply {
  return change.ok ? { id, ok: true, version: change.version, count: change.count } : fail(id, change.error, change.message);
}

const optionalVersion = (v: unknown): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v : Number.NaN);

function move(which: 'open' | 'close') {
  return action({
    fields: fields({ device: deviceId }),
    does:
      which === 'open'
        ? 'opens a door or lane: a door unlocks, a barrier opens, a bollard lowers'
        : 'closes a door or lane: a door locks, a barrier closes, a bollard rises',
    errors: ['unknown-device', 'unsafe', 'fire-alarm', 'not-supported', 'offline'],
    run: (cmd, ctx) => {
      const device = ctx.devices.get(cmd.device);
      if (!device) return fail(ctx.id, 'unknown-device', `no device ${JSON.stringify(cmd.device)}`);
      const result = device.command(which, { by: 'remote', ...(ctx.by ? { user: ctx.by } : {}) });
      return result.ok ? { id: ctx.id, ok: true } : fail(ctx.id, result.error, result.message);
    },
  });
}

function decide(decision: 'granted' | 'denied') {
  return action({
    fields: fields({
      pendingId: z
        .string({ error: 'expected the id of a waiting vehicle' })
        .max(64)
        .meta({ description: 'the waiting vehicle, as P/pending and GET /api/visitors name it' }),
    }),
    does: decision === 'granted' ? 'lets in a vehicle held for a decision' : 'refuses a vehicle held for a decision',
    errors: ['unknown-pending'],
    run: (cmd, ctx) => {
      const decided = ctx.access.settle(cmd.pendingId, { decision, by: 'remote', ...(ctx.by ? { user: ctx.by } : {}) });
      return decided ? { id: ctx.id, ok: true } : fail(ctx.id, 'unknown-pending', `no vehicle waiting as ${JSON.stringify(cmd.pendingId)}`);
    },
  });
}

export const COMMANDS = {
  open: move('open'),
  close: move('close'),
  'plates.upsert': action({
    fields: fields({ plates: list("residents' plates to add or change", '[{plate, lanes?, until?, name?}]'), version: listVersion }),
    does: 'adds or changes plates on the list',
    errors: ['stale-version'],
    run: (cmd, ctx) => listReply(ctx.id, ctx.access.plates.upsert(cmd.plates, optionalVersion(cmd.version))),
  }),
  'plates.remove': action({
    fields: fields({ plates: list('plates to take off', '["粤B12345"]'), version: listVersion }),
    does: 'takes plates off the list',
    errors: ['stale-version'],
    run: (cmd, ctx) => listReply(ctx.id, ctx.access.plates.remove(cmd.plates, optionalVersion(cmd.version))),
  }),
  'plates.replace': action({
    fields: fields({ plates: list('the whole list', '[{plate, …}]'), version: z.unknown().meta({ description: 'the version of the new list' }) }),
    does: 'replaces the whole plate list',
    errors: ['stale-version'],
    run: (cmd, ctx) => listReply(ctx.id, ctx.access.plates.replace(cmd.plates, cmd.version)),
  }),
  'cards.upsert': action({
    fields: fields({ cards: list("residents' cards to add or change", '[{card, doors?, from?, until?, schedule?, name?}]'), version: listVersion }),
    does: 'adds or changes cards on the list',
    errors: ['stale-version'],
    run: (cmd, ctx) => listReply(ctx.id, ctx.access.credentials.cards.upsert(cmd.cards, optionalVersion(cmd.version))),
  }),
  'cards.remove': action({
    fields: fields({ cards: list('card numbers to take off', '["0012345678"]'), version: listVersion }),
    does: 'takes cards off the list',
    errors: ['stale-version'],
    run: (cmd, ctx) => listReply(ctx.id, ctx.access.credentials.cards.remove(cmd.cards, optionalVersion(cmd.version))),
  }),
  'cards.replace': action({
    fields: fields({ cards: list('the whole list', '[{card, …}]'), version: z.unknown().meta({ description: 'the version of the new list' }) }),
    does: 'replaces the whole card list',
    errors: ['stale-version'],
    run: (cmd, ctx) => listReply(ctx.id, ctx.access.credentials.cards.replace(cmd.cards, cmd.version)),
  }),
  'passes.revoke': action({
    fields: fields({
      passes: z
        .array(z.string().min(1).max(64), { error: 'expected a list of 1-1000 pass ids' })
        .min(1, { error: 'expected a list of 1-1000 pass ids' })
        .max(1000, { error: 'expected a list of 1-1000 pass ids' })
        .meta({ description: '1-1000 visitor pass ids, e.g. ["v-8812"]' }),
      until: isoTime.optional().meta({ description: 'when the passes end anyway (default 400 days)' }),
    }),
    does: 'revokes visitor passes, written to disk before the reply; answered with `count` (newly revoked)',
    errors: [],
    run: (cmd, ctx) => ({
      id: ctx.id,
      ok: true,
      count: ctx.access.credentials.passes.revoke(cmd.passes, cmd.until === undefined ? undefined : Date.parse(cmd.until)),
    }),
  }),
  'spaces.set': action({
    fields: fields({
      carPark: z.string({ error: 'expected the id of a car park' }).min(1).max(64).meta({ description: 'the car park (access.carParks)' }),
      used: z
        .int({ error: 'expected a whole number of spaces in use, 0-100000' })
        .min(0, { error: 'expected a whole number of spaces in use, 0-100000' })
        .max(100_000, { error: 'expected a whole number of spaces in use, 0-100000' })
        .meta({ description: 'spaces taken by temporary cars now, as counted' }),
    }),
    does: "corrects a car park's count of temporary cars inside (counts drift); on disk before the reply; answered with `capacity`, `used` and `free`",
    errors: ['unknown-car-park'],
    run: (cmd, ctx) => {
      const park = ctx.access.correctSpaces(cmd.carPark, cmd.used, { by: 'remote', ...(ctx.by ? { user: ctx.by } : {}) });
      if (!park) {
        const known = ctx.access.carParks.states().map((p) => p.id);
        return fail(ctx.id, 'unknown-car-park', `no car park "${cmd.carPark}" (${known.length ? `known: ${known.join(', ')}` : 'none are defined'})`);
      }
      return { id: ctx.id, ok: true, capacity: park.capacity, used: park.used, free: park.free };
    },
  }),
  'visitor.allow': decide('granted'),
  'visitor.deny': decide('denied'),
  'config.apply': action({
    fields: fields({
      config: z
        .string({ error: 'expected the whole site file (YAML or JSON) as a string' })
        .meta({ description: 'the whole site file, YAML or JSON, as a string' }),
      version: z.unknown().meta({ description: 'higher than the running one' }),
      deadlineSec: z.unknown().optional().meta({ description: 'seconds until the trial is judged, default 60' }),
    }),
    does: 'runs a new site file on trial and rolls it back if it leaves the gateway worse; answered once it runs; a good one sent while another is on trial is refused `busy` with `onTrial` (that version)',
    errors: ['stale-version', 'busy', 'not-supported'],
    run: (cmd, ctx) => {
      if (!ctx.config) return fail(ctx.id, 'not-supported', 'remote configuration is not available on this gateway');
      const answer = ctx.config.apply({ id: ctx.id, config: cmd.config, version: cmd.version, deadlineSec: cmd.deadlineSec });
      // Answered by the gateway once it runs on the new config (Uplink.publishReply).
      if (answer.ok) return { id: ctx.id, ok: true, deferred: true };
      return {
        id: ctx.id,
        ok: false,
        error: answer.error,
        message: answer.message,
        ...(answer.problems ? { problems: answer.problems } : {}),
        ...(answer.onTrial !== undefined ? { onTrial: answer.onTrial } : {}),
      };
    },
  }),
  'config.get': action({
    fields: fields({}),
    does: "answers the running version and the site file's sha256",
    errors: ['not-supported'],
    run: (_cmd, ctx) =>
      ctx.config ? { id: ctx.id, ok: true, ...ctx.config.get(ctx.id) } : fail(ctx.id, 'not-supported', 'remote configuration is not available on this gateway'),
  }),
  upgrade: action({
    fields: fields({
      version: z.unknown().meta({ description: 'the release' }),
      url: z.unknown().optional().meta({ description: "the release tarball's https URL (or give file)" }),
      file: z.unknown().optional().meta({ description: 'a tarball already on the gateway (or give url)' }),
      sha256: z.unknown().meta({ description: 'of the tarball' }),
      signature: z.unknown().meta({ description: "Ed25519 by the fleet's key, base64" }),
      deadlineSec: z.unknown().optional().meta({ description: 'seconds until the trial is judged, default 120' }),
    }),
    does: 'installs a signed release and runs it on trial; see upgrades.md; answered once installed',
    errors: ['not-supported', 'bad-signature', 'download-failed'],
    run: (cmd, ctx) => {
      if (!ctx.upgrade) return fail(ctx.id, 'not-supported', 'remote upgrades are not available on this gateway');
      const answer = ctx.upgrade.start({
        id: ctx.id,
        url: cmd.url,
        file: cmd.file,
        sha256: cmd.sha256,
        signature: cmd.signature,
        version: cmd.version,
        deadlineSec: cmd.deadlineSec,
      });
      // Answered once the release is fetched, checked and installed (Uplink.publishReply).
      return answer.ok ? { id: ctx.id, ok: true, deferred: true } : fail(ctx.id, answer.error, answer.message);
    },
  }),
  ping: action({
    fields: fields({}),
    does: 'answers ok: a round trip through the broker',
    errors: [],
    run: (_cmd, ctx) => ({ id: ctx.id, ok: true }),
  }),
} as const;

export type CommandAction = keyof typeof COMMANDS;
export const ACTIONS = Object.keys(COMMANDS) as CommandAction[];

/** Runs an action: its fields checked first (a bad one is `invalid`, naming the field). */
export function runCommand(name: CommandAction, cmd: Record<string, unknown>, ctx: CommandContext): CommandReply {
  const spec = COMMANDS[name] as ActionSpec<z.ZodType>;
  const parsed = spec.fields.safeParse(cmd);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(command)'}: ${i.message}`);
    return { id: ctx.id, ok: false, error: 'invalid', message: problems[0]!, problems };
  }
  return spec.run(parsed.data, ctx);
}

/** docs/api.md's table of commands, from this one. */
export function commandsTable(): string {
  const rows = Object.entries(COMMANDS).map(([name, a]) => {
    const shape = (a.fields as unknown as z.ZodObject).shape;
    const fieldText = Object.entries(shape)
      .map(([key, schema]) => {
        const s = schema as z.ZodType;
        const optional = s instanceof z.ZodOptional ? '?' : '';
        const description = s.meta()?.description;
        return `\`${key}${optional}\`${description ? `: ${description}` : ''}`;
      })
      .join('; ');
    const errors = a.errors.map((e) => `\`${e}\``).join(', ');
    return `| \`${name}\` | ${fieldText} | ${a.does} | ${errors} |`;
  });
  return ['| action | fields | what it does | errors besides `invalid` |', '|---|---|---|---|', ...rows].join('\n');
}
