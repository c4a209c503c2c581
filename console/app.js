// @ts-check
/**
 * The staff console: phone first, zh-CN first. It talks to the API only (/api/*) and renders
 * every code the gateway sends through console/i18n.js, so a guard reads words, not keys.
 * Served as a module under a CSP without 'unsafe-inline'.
 */
import { alertIfBlocked, carParkChanged, renderCarParks, setCarParks } from './car-parks.js';
import { $, el } from './dom.js';
import { T, meterValue, stopReason, word } from './i18n.js';

/** @typedef {import('./i18n.js').Lang} Lang */
/**
 * @typedef {{ id: string, type: string, name?: string, state: string, fault: string | null, door?: string, alarm?: string | null,
 *   lane?: string, values?: Record<string, number>, readAt?: string | null, lastRead?: { plate: string | null, decision: string } | null, vehicle?: boolean | null }} Device
 * @typedef {{ id: string, seq?: number, time: string, type: string, device: string, data: Record<string, any> }} GatewayEvent
 * @typedef {{ name: string, states: Record<string, string>, actions?: { open: string, close: string }, labels?: Record<string, string>, roles?: Record<string, string> }} KindWords
 * @typedef {{ show: 'word' | 'badge' | 'device' | 'plate-read' | 'values' | 'last-action' | 'screen', field: string, group?: string, label?: string, hideWhen?: string[] }} CardPart
 * @typedef {{ words: Record<Lang, KindWords>, card: CardPart[] }} KindInfo
 * @typedef {{ id: string, plate: string | null, lane: string, direction?: 'in' | 'out', feeCents?: number }} Waiting
 */

/** @type {Lang} */
let lang = localStorage.getItem('eg-lang') === 'en' ? 'en' : 'zh-CN';
/** @param {string} k */
const ui = (k) => word(lang, 'ui', k);
/** @type {Map<string, Device>} */
const devices = new Map();
/**
 * Why an action was refused, shown beside its buttons (a device's card, an I/O board) until it
 * is old: a guard sees it where he pressed, not in a browser dialog.
 * @type {Map<string, { text: string, until: number }>}
 */
const refusals = new Map();
const REFUSAL_SHOWN_MS = 8000;
/** @param {string} key @param {{ status: number, body: any }} r */
function noteRefusal(key, r) {
  refusals.set(key, { text: T[lang].refusals[r.body.error] || `${ui('failed')}: ${r.body.message || r.status}`, until: Date.now() + REFUSAL_SHOWN_MS });
  setTimeout(() => {
    if ((refusals.get(key)?.until ?? 0) <= Date.now()) {
      refusals.delete(key);
      renderAll();
    }
  }, REFUSAL_SHOWN_MS + 50);
}
/** @param {string} key */
const refusalNote = (key) => {
  const r = refusals.get(key);
  return r && r.until > Date.now() ? el('div', { className: 'refused', role: 'alert', textContent: r.text }) : undefined;
};
/** What each device kind says of itself: its words and its card (GET /api/kinds). @type {Record<string, KindInfo>} */
let kinds = {};
/** @type {GatewayEvent[]} */
let events = [];
/** @type {Waiting[]} */
let waiting = [];
/** @type {EventSource | undefined} */
let stream;
/** @type {ReturnType<typeof setInterval> | undefined} */
let ioTimer;
let fireActive = false;

/** One time format everywhere: 24 h, with the date when it is not today. */
/** @param {string} iso */
function timeText(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const opts = /** @type {Intl.DateTimeFormatOptions} */ ({
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    ...(today ? {} : { month: '2-digit', day: '2-digit' }),
  });
  return new Intl.DateTimeFormat(lang, opts).format(d);
}
/** A device by its name; events of the gateway itself (console, fire-alarm, ...) in words. @param {string} id */
const deviceName = (id) => devices.get(id)?.name || (devices.has(id) ? id : word(lang, 'sources', id));

function applyLang() {
  document.documentElement.lang = lang;
  $('lang').textContent = lang === 'en' ? '中文' : 'English';
  for (const e of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-t]'))) e.textContent = ui(e.dataset['t'] ?? '');
  for (const e of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('[data-tp]'))) e.placeholder = ui(e.dataset['tp'] ?? '');
  renderAll();
}
$('lang').onclick = () => {
  lang = lang === 'en' ? 'zh-CN' : 'en';
  localStorage.setItem('eg-lang', lang);
  applyLang();
};

/** Switching language re-renders everything on screen. */
/** What the car parks module needs of this page. */
const parkHelpers = () => ({
  ui,
  api,
  refused: (/** @type {{ status: number, body: any }} */ r) => T[lang].refusals[r.body.error] || `${ui('failed')}: ${r.body.message || r.status}`,
});

function renderAll() {
  renderCarParks(parkHelpers());
  renderDevices();
  renderVisitors();
  renderPasses();
  renderEvents();
  renderStatus();
  if (!$('io-tab').hidden) void renderIo();
}

/**
 * @param {string} path
 * @param {RequestInit} [opts]
 */
async function api(path, opts = {}) {
  const res = await fetch(path, {
    credentials: 'same-origin',
    ...opts,
    headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...(opts.headers || {}) },
  });
  const body = await res.json().catch(() => ({}));
  return { status: res.status, body, headers: res.headers };
}
/** @param {string} path @param {unknown} [data] */
const post = (path, data = {}) => api(path, { method: 'POST', body: JSON.stringify(data) });

async function showLogin() {
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('logout').hidden = true;
  if (stream) {
    stream.close();
    stream = undefined;
  }
  const setup = await api('/api/setup');
  const hint = $('setup-hint');
  hint.hidden = setup.body.hasAdmin !== false;
  hint.replaceChildren(
    el('span', { textContent: `${ui('noAdmin')} ` }),
    el('code', { textContent: 'estate-gateway user add NAME --role admin --config /etc/estate-gateway/site.yaml' }),
  );
  void refreshStatus();
}

/** @type {HTMLFormElement} */ ($('login-form')).onsubmit = async (e) => {
  e.preventDefault();
  $('login-msg').textContent = '';
  const user = /** @type {HTMLInputElement} */ ($('username'));
  const pass = /** @type {HTMLInputElement} */ ($('password'));
  const r = await post('/api/session', { username: user.value, password: pass.value });
  if (r.status === 200) {
    pass.value = '';
    return start();
  }
  $('login-msg').textContent = r.status === 429 ? ui('locked').replace('{s}', r.headers.get('retry-after') || '60') : ui('badLogin');
};
$('logout').onclick = async () => {
  await api('/api/session', { method: 'DELETE' });
  void showLogin();
};

async function start() {
  const me = await api('/api/session');
  if (me.status !== 200) return showLogin();
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('logout').hidden = false;
  // A staff user has one tab: then there is no tab bar at all.
  const installer = me.body.role !== 'staff';
  $('tab-io').hidden = !installer;
  $('tabs').hidden = !installer;
  const site = await api('/api/site');
  $('site').textContent = site.status === 200 ? site.body.name || site.body.id || '' : '';
  const k = await api('/api/kinds');
  kinds = k.status === 200 ? k.body.kinds || {} : {};
  const list = await api('/api/devices');
  devices.clear();
  for (const d of list.body.devices || []) devices.set(d.id, d);
  const ev = await api('/api/events?limit=1000');
  events = (ev.body.events || [])
    .filter((/** @type {GatewayEvent} */ e) => e.type !== 'meter.reading')
    .slice(-50)
    .reverse();
  renderAll();
  connect();
  void refreshStatus();
  void refreshPasses();
}

function connect() {
  if (stream) stream.close();
  stream = new EventSource('/api/stream');
  stream.addEventListener('hello', (m) => {
    const d = JSON.parse(m.data);
    for (const s of d.devices) devices.set(s.id, s);
    waiting = d.waiting;
    setCarParks(d.carParks ?? []);
    renderCarParks(parkHelpers());
    renderDevices();
    renderVisitors();
  });
  stream.addEventListener('carPark', (m) => {
    carParkChanged(JSON.parse(m.data));
    renderCarParks(parkHelpers());
  });
  stream.addEventListener('event', (m) => {
    /** @type {GatewayEvent} */
    const e = JSON.parse(m.data);
    if (e.type === 'meter.reading') {
      // readings are telemetry: they update the meter's tile, not the event list
      const d = devices.get(e.device);
      if (d) {
        d.values = e.data['values'];
        d.readAt = e.time;
        renderDevice(d);
      }
      return;
    }
    events.unshift(e);
    events.length = Math.min(events.length, 50);
    renderEvents();
    alertIfBlocked(e, { ui, deviceName });
    if (e.data && e.data['pass'] !== undefined) void refreshPasses();
    if (e.type.startsWith('fire-alarm')) void refreshStatus();
  });
  stream.addEventListener('state', (m) => {
    const s = JSON.parse(m.data);
    devices.set(s.id, s);
    renderDevice(s);
  });
  stream.addEventListener('waiting', (m) => {
    waiting = JSON.parse(m.data);
    renderVisitors();
  });
  stream.onerror = () => {
    if (stream && stream.readyState === EventSource.CLOSED) setTimeout(start, 3000);
  };
}

/** @type {any} */
let health = {};
async function refreshStatus() {
  const h = await api('/api/health');
  health = h.body || {};
  renderStatus();
}
function renderStatus() {
  fireActive = health.fireAlarm === true;
  $('fire').hidden = !fireActive; // on every page, the login page too
  $('status').replaceChildren(
    el('span', { className: `pill ${health.uplink?.connected ? 'ok' : 'bad'}`, textContent: health.uplink?.connected ? ui('uplinkOn') : ui('uplinkOff') }),
    el('span', { className: 'pill', textContent: `${ui('backlog')} ${health.uplink?.backlog ?? 0}` }),
    el('span', { className: `pill ${health.devices?.fault ? 'bad' : 'ok'}`, textContent: `${ui('faults')} ${health.devices?.fault ?? 0}` }),
  );
}
setInterval(() => void refreshStatus(), 5000);

/** A device kind's words in the current language. @param {string} type @returns {KindWords | undefined} */
const kindWords = (type) => kinds[type]?.words[lang];

/** @param {Device} d */
function stateText(d) {
  if (d.fault) return `${ui('fault')}: ${word(lang, 'faults', d.fault)}`;
  return kindWords(d.type)?.states[d.state] ?? d.state;
}

function renderDevices() {
  $('devices').replaceChildren(...[...devices.values()].map(deviceCard));
}
/** @param {Device} d */
function renderDevice(d) {
  const old = document.getElementById(`dev-${d.id}`);
  if (old) old.replaceWith(deviceCard(d));
  else renderDevices();
}
/** @param {Device} d */
function deviceCard(d) {
  const card = el('div', { className: `card${d.fault ? ' fault' : ''}${d.alarm ? ' alarm' : ''}`, id: `dev-${d.id}` });
  card.dataset['type'] = d.type;
  const state = el('div', { className: 'state' }, el('b', { textContent: stateText(d) }));
  card.append(el('h3', { textContent: d.name || d.id }), state);
  // What else the card shows is the kind's to say (GET /api/kinds); the console only knows how to draw each part.
  const words = kindWords(d.type);
  const label = (/** @type {string | undefined} */ key) => (key && words?.labels?.[key]) || '';
  /** @type {Record<string, any>} */
  const fields = d;
  for (const part of kinds[d.type]?.card ?? []) {
    const value = fields[part.field];
    if (part.show === 'word' && value != null && !(part.hideWhen ?? []).includes(value)) state.append(' · ', word(lang, part.group ?? '', value));
    if (part.show === 'badge' && value) state.append(el('span', { className: 'badge', textContent: word(lang, part.group ?? '', value) }));
    if (part.show === 'device' && value) state.append(` · ${label(part.label)} ${deviceName(value)}`);
    if (part.show === 'plate-read' && value) state.append(` · ${label(part.label)} ${value.plate ?? ui('noPlate')} ${word(lang, 'decisions', value.decision)}`);
    if (part.show === 'last-action' && value)
      state.append(
        el('div', {
          className: 'last',
          textContent: `${label(part.label)} ${words?.actions?.[/** @type {'open' | 'close'} */ (value.action)] ?? value.action} ${timeText(value.at)} · ${word(lang, 'actors', value.by)}`,
        }),
      );
    if (part.show === 'screen' && value) {
      const shown = value.state === 'ok' || value.state === 'waiting' ? (value.shown?.lines ?? []).join(' / ') : '';
      if (shown) state.append(el('div', { className: 'screen', textContent: `${label(part.label)}: ${shown}` }));
    }
    if (part.show === 'values') {
      const values = Object.entries(value || {});
      if (values.length === 0) state.append(` · ${label(part.label)}`);
      const grid = el('div', { className: 'values' });
      for (const [name, v] of values.slice(0, 6)) {
        const shown = meterValue(lang, name, /** @type {number} */ (v));
        grid.append(el('span', { textContent: shown.label }), el('span', { textContent: shown.text }));
      }
      if (values.length) card.append(grid);
    }
  }
  const labels = words?.actions;
  if (labels) {
    const actions = el('div', { className: 'actions' });
    for (const action of /** @type {const} */ (['open', 'close'])) {
      const b = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', className: action, textContent: labels[action] }));
      b.dataset['action'] = action;
      b.onclick = async () => {
        b.disabled = true;
        const r = await post(`/api/devices/${encodeURIComponent(d.id)}/${action}`);
        b.disabled = false;
        if (r.status === 401) return showLogin();
        if (r.status !== 200) {
          noteRefusal(`dev-${d.id}`, r);
          renderDevice(devices.get(d.id) ?? d);
        } else refusals.delete(`dev-${d.id}`);
      };
      actions.append(b);
    }
    card.append(actions);
  }
  const note = refusalNote(`dev-${d.id}`);
  if (note) card.append(note);
  return card;
}

/** @type {Array<{ id: string, name?: string, uses: number, used: number, until: string, revoked: boolean }>} */
let passes = [];
async function refreshPasses() {
  const r = await api('/api/passes');
  passes = r.status === 200 ? r.body.passes || [] : [];
  renderPasses();
}
/** Visitor passes shown at a door since start: who, uses left, until when. */
function renderPasses() {
  $('passes-box').hidden = passes.length === 0;
  $('passes').replaceChildren(
    ...passes
      .slice(-20)
      .reverse()
      .map((p) =>
        el(
          'li',
          {},
          el('span', { className: 'what', textContent: p.name || p.id }),
          el('span', { className: 'uses', textContent: p.revoked ? ui('revoked') : usesLeft(p.uses - p.used) }),
          el('time', { textContent: `${ui('until')} ${timeText(p.until)}` }),
        ),
      ),
  );
}

function renderVisitors() {
  $('visitors-box').hidden = waiting.length === 0;
  $('visitors').replaceChildren(
    ...waiting.map((w) => {
      const row = el(
        'div',
        { className: 'card visitor' },
        el('span', { className: 'plate', textContent: w.plate || ui('noPlate') }),
        el('span', { textContent: `${deviceName(w.lane)}${w.feeCents ? ` ¥${(w.feeCents / 100).toFixed(2)}` : ''}` }),
      );
      for (const [decision, cls] of [
        ['allow', ''],
        ['deny', 'deny'],
      ]) {
        const label = decision === 'allow' && w.direction === 'out' ? 'letOut' : (decision ?? '');
        const b = el('button', { type: 'button', className: cls, textContent: ui(label) });
        b.onclick = () => post(`/api/visitors/${encodeURIComponent(w.id)}/${decision}`);
        row.append(b);
      }
      return row;
    }),
  );
}

/** What happened, in words: who, which plate, the decision and why, the fee. @param {GatewayEvent} e */
function eventText(e) {
  const d = e.data || {};
  /** @type {string[]} */
  const bits = [];
  if (d['plate'] !== undefined) bits.push(d['plate'] === 'unknown' ? ui('noPlate') : d['plate']);
  // a car leaving is let out, not let in
  const leaving = e.type === 'vehicle.exit' || d['direction'] === 'out';
  if (d['decision'] !== undefined) bits.push(leaving && d['decision'] === 'granted' ? ui('letOutDone') : word(lang, 'decisions', d['decision']));
  // the class, unless the reason already says it (a blocked car is refused as blocked)
  if (d['class'] !== undefined && d['class'] !== d['reason'])
    bits.push(d['chargedAs'] ? `${word(lang, 'classes', d['class'])} (${ui('chargedAs')})` : word(lang, 'classes', d['class']));
  if (e.type === 'car-park.corrected') bits.push(`${d['was']} → ${d['used']} / ${d['capacity']}`);
  if (e.type === 'gateway.stopping' && typeof d['reason'] === 'string') bits.push(stopReason(lang, d['reason']));
  else if (d['reason'] !== undefined) {
    const group = e.type === 'audit.login-failed' ? 'loginFailures' : e.type === 'access.denied' ? 'accessRefusals' : 'reasons';
    bits.push(word(lang, group, d['reason']));
  }
  if (d['by'] !== undefined) bits.push(word(lang, 'actors', d['by']));
  if (d['method'] !== undefined && d['method'] !== d['by']) bits.push(word(lang, 'methods', d['method']));
  // devices an event names, by their names: the reader a pass or card was shown at, a car's lane
  if (typeof d['reader'] === 'string') bits.push(deviceName(d['reader']));
  if (typeof d['lane'] === 'string' && e.type.startsWith('vehicle.')) bits.push(deviceName(d['lane']));
  if (d['pass'] !== undefined) bits.push(`${ui('pass')} ${d['pass']}`);
  // card and person numbers are personal: the console shows their last four characters
  if (d['card'] !== undefined) bits.push(`${ui('card')} ${tail(d['card'])}`);
  if (d['person'] !== undefined) bits.push(`${ui('person')} ${tail(d['person'])}`);
  if (d['remainingUses'] !== undefined) bits.push(usesLeft(d['remainingUses']));
  if (d['user'] !== undefined) bits.push(d['user']);
  if (d['kind'] !== undefined) bits.push(word(lang, 'alarmKinds', d['kind']));
  if (d['code'] !== undefined) bits.push(word(lang, 'faults', d['code']));
  if (d['error'] !== undefined) bits.push(word(lang, 'refusals', d['error']));
  if (d['feeCents'] !== undefined) bits.push(`${ui('fee')} ¥${(d['feeCents'] / 100).toFixed(2)}`);
  return bits.join(' · ');
}
/** @param {number} n */
const usesLeft = (n) => (n === 1 ? ui('oneUseLeft') : ui('usesLeft').replace('{n}', String(Math.max(0, n))));
/** @param {string} s */
const tail = (s) => (s.length > 4 ? `…${s.slice(-4)}` : s);
const ALERT = /forced|held-open|fire-alarm.raised|fault|blocked|alarm.raised|login-failed|access.denied/;
function renderEvents() {
  const list = $('events');
  if (events.length === 0) return list.replaceChildren(el('li', { textContent: ui('noEvents') }));
  list.replaceChildren(
    ...events.map((e) =>
      el(
        'li',
        { className: ALERT.test(e.type) || e.data?.['reason'] === 'blocked' ? 'alert' : '' },
        el('time', { textContent: timeText(e.time) }),
        el('span', { className: 'what', textContent: word(lang, 'events', e.type) }),
        el('span', { className: 'who', textContent: deviceName(e.device) }),
        el('span', { className: 'detail', textContent: eventText(e) }),
      ),
    ),
  );
}

/** @param {boolean} io */
function showTab(io) {
  $('tab-main').classList.toggle('on', !io);
  $('tab-io').classList.toggle('on', io);
  $('main-tab').hidden = io;
  $('io-tab').hidden = !io;
  /** @type {HTMLElement} */ (document.querySelector('.to-events')).hidden = io;
  clearInterval(ioTimer);
  if (io) {
    void renderIo();
    ioTimer = setInterval(renderIo, 1000);
  }
}
$('tab-main').onclick = () => showTab(false);
$('tab-io').onclick = () => showTab(true);

/** Who uses a pin, in words: the device by its name and the pin's role as its kind calls it. @param {string} id @param {string} role */
function pinUser(id, role) {
  const type = devices.get(id)?.type;
  const roleWord = type ? kindWords(type)?.roles?.[role] : undefined;
  return type ? `${deviceName(id)} · ${roleWord ?? role}` : deviceName(id); // the fire alarm input names itself
}

async function renderIo() {
  const r = await api('/api/io');
  if (r.status !== 200) return;
  $('io-tab').replaceChildren(
    ...r.body.boards.map((/** @type {any} */ b) => {
      const table = el(
        'table',
        { className: 'pins' },
        el('tr', {}, ...['pin', 'dir', 'value', 'device', ''].map((k) => el('th', { textContent: k ? ui(k) : '' }))),
      );
      for (const p of b.pins) {
        const act = el('td');
        /** @param {number} value @param {number} [pulseMs] */
        const set = (value, pulseMs) =>
          post(`/api/io/${encodeURIComponent(b.id)}/${p.pin}`, pulseMs ? { value, pulseMs } : { value }).then((res) => {
            if (res.status !== 200) noteRefusal(`io-${b.id}`, res);
            else refusals.delete(`io-${b.id}`);
            return renderIo();
          });
        if (p.direction === 'out') act.append(el('button', { type: 'button', textContent: ui('pulse'), onclick: () => set(1, 500) }));
        if (p.direction === 'out' || b.type === 'sim')
          act.append(' ', el('button', { type: 'button', textContent: p.value ? ui('clear') : ui('set'), onclick: () => set(p.value ? 0 : 1) }));
        table.append(
          el(
            'tr',
            {},
            el('td', { textContent: p.pin }),
            el('td', { textContent: ui(p.direction) }),
            el('td', {}, el('span', { className: `lvl${p.value ? ' on' : ''}`, textContent: p.value ?? '?' })),
            el('td', { textContent: pinUser(p.device, p.role) }),
            act,
          ),
        );
      }
      const card = el('div', { className: 'card' }, el('h3', { textContent: `${b.id} (${b.type}) ${b.online ? ui('online') : ui('offline')}` }));
      const note = refusalNote(`io-${b.id}`);
      if (note) card.append(note);
      card.append(table);
      return card;
    }),
  );
}

applyLang();
void start();
