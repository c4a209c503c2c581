// @ts-check
/**
 * The car parks on the console: spaces left for visitors at a glance, and a guard's correction of
 * a count that drifted (PUT /api/car-parks/{id}, kept on the gateway's disk before it answers).
 * And the alert a guard must see at once: a blocked car (黑名单) refused at a lane.
 */
import { $, el } from './dom.js';

/**
 * @typedef {{ id: string, name?: string, capacity: number, used: number, free: number, full: boolean }} CarPark
 * @typedef {{ ui: (k: string) => string, api: (path: string, opts?: RequestInit) => Promise<{ status: number, body: any }>, refused: (r: { status: number, body: any }) => string }} Helpers
 */

/** @type {Map<string, CarPark>} */
const parks = new Map();
/** car parks whose correction form is open */
const correcting = new Set();

/** @param {CarPark[]} list */
export function setCarParks(list) {
  parks.clear();
  for (const p of list) parks.set(p.id, p);
}

/** @param {CarPark} park */
export function carParkChanged(park) {
  parks.set(park.id, park);
}

/** @param {Helpers} h */
export function renderCarParks(h) {
  $('car-parks-box').hidden = parks.size === 0;
  $('car-parks').replaceChildren(...[...parks.values()].map((p) => card(p, h)));
}

/** @param {CarPark} p @param {Helpers} h */
function card(p, h) {
  const c = el(
    'div',
    { className: `card car-park${p.full ? ' fault' : ''}`, id: `park-${p.id}` },
    el('h3', { textContent: p.name || p.id }),
    el(
      'div',
      { className: 'spaces' },
      el('b', { textContent: String(p.free) }),
      ` ${h.ui('spacesLeft')}`,
      p.full ? el('span', { className: 'badge', textContent: h.ui('full') }) : '',
    ),
    el('div', { className: 'last', textContent: `${h.ui('spacesUsed')} ${p.used} / ${p.capacity}` }),
  );
  if (!correcting.has(p.id)) {
    const b = el('button', { type: 'button', className: 'small', textContent: h.ui('correct') });
    b.onclick = () => {
      correcting.add(p.id);
      renderCarParks(h);
    };
    c.append(el('div', { className: 'actions' }, b));
    return c;
  }
  const input = /** @type {HTMLInputElement} */ (
    el('input', { type: 'number', min: '0', max: '100000', value: String(p.used), inputMode: 'numeric', title: h.ui('correctHint') })
  );
  const save = el('button', { type: 'button', textContent: h.ui('correct') });
  const note = el('div', { className: 'hint', textContent: h.ui('correctHint') });
  save.onclick = async () => {
    const r = await h.api(`/api/car-parks/${encodeURIComponent(p.id)}`, { method: 'PUT', body: JSON.stringify({ used: Number(input.value) }) });
    if (r.status === 200) {
      correcting.delete(p.id);
      carParkChanged(r.body);
      renderCarParks(h);
    } else note.replaceWith(el('div', { className: 'refused', role: 'alert', textContent: h.refused(r) }));
  };
  c.append(note, el('div', { className: 'actions' }, input, save));
  return c;
}

/**
 * A blocked car refused at a lane: a banner on top until a guard acknowledges it.
 * @param {{ type: string, device: string, data: Record<string, any> }} e
 * @param {{ ui: (k: string) => string, deviceName: (id: string) => string }} h
 */
export function alertIfBlocked(e, h) {
  if (e.type !== 'vehicle.entry' || e.data['reason'] !== 'blocked') return;
  const text = h
    .ui('blockedAlert')
    .replace('{plate}', String(e.data['plate']))
    .replace('{lane}', h.deviceName(String(e.data['lane'])));
  const ok = el('button', { type: 'button', textContent: h.ui('dismiss') });
  const banner = el('div', { className: 'alert-banner', role: 'alert' }, el('span', { textContent: text }), ok);
  ok.onclick = () => banner.remove();
  $('alerts').prepend(banner);
}
