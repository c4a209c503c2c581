// @ts-check
/**
 * The console's words, zh-CN first and English. Every code the gateway shows (devices/vocabulary.ts:
 * event types, decisions, reasons, actors, faults, refusals) has a translation in both languages
 * here (each device kind brings the words for its own states and buttons: GET /api/kinds); test/console-vocabulary.test.ts fails on one that is missing, so a guard never
 * sees a raw key. Plain ES module, no DOM: the page and the tests both import it.
 */

/** @typedef {'zh-CN' | 'en'} Lang */

/** @type {Record<Lang, any>} */
export const T = {
  'zh-CN': {
    ui: {
      title: '小区网关', logout: '退出', username: '用户名', password: '密码', login: '登录', devices: '设备', io: '调试 I/O',
      fire: '火警：所有门和车道已释放', waiting: '等待放行的访客', events: '实时事件', allow: '放行', deny: '拒绝',
      uplinkOn: '上行已连接', uplinkOff: '上行未连接', backlog: '待上传', faults: '故障', badLogin: '用户名或密码错误',
      locked: '登录失败次数过多，请 {s} 秒后再试', noAdmin: '尚无账户。请在网关上运行：', failed: '操作失败', pulse: '脉冲', set: '置 1', clear: '置 0',
      lastRead: '最近识别', online: '在线', offline: '离线', pin: '引脚', dir: '方向', value: '值', device: '设备', in: '输入', out: '输出',
      noPlate: '无牌', fee: '费用', fault: '故障', door: '门', noEvents: '暂无事件', noReading: '尚无读数',
      passes: '访客通行码', lane: '车道', pass: '通行码', card: '卡', person: '人员', usesLeft: '剩余 {n} 次', oneUseLeft: '剩余 1 次', until: '有效至', revoked: '已撤销',
    },
    doorContact: { open: '门已打开', closed: '门已关闭', unknown: '无门磁' },
    doorAlarm: { forced: '被强行打开', 'held-open': '开门超时' },
    events: {
      'gateway.started': '网关启动', 'gateway.stopping': '网关停止', 'door.unlocked': '门已开锁', 'access.denied': '拒绝开门', 'door.locked': '门已上锁', 'door.opened': '门被打开',
      'door.closed': '门已关闭', 'door.forced': '门被强行打开', 'door.held-open': '门开启超时', 'vehicle.entry': '车辆入场', 'vehicle.exit': '车辆出场',
      'vehicle.decided': '访客处理', 'barrier.opened': '道闸抬杆', 'barrier.closed': '道闸落杆', 'barrier.blocked': '道闸受阻', 'bollard.lowered': '升降柱降下',
      'bollard.raised': '升降柱升起', 'bollard.blocked': '升降柱受阻', 'bollard.fault': '升降柱故障', 'meter.reading': '电表读数', 'alarm.raised': '报警',
      'alarm.cleared': '报警解除', 'fire-alarm.raised': '火警', 'fire-alarm.cleared': '火警解除', 'device.fault': '设备故障', 'device.recovered': '设备恢复',
      'audit.login': '登录', 'audit.login-failed': '登录失败', 'audit.command': '平台指令', 'audit.config': '远程配置', 'audit.upgrade': '远程升级', 'clock.unsynced': '时钟未同步',
      'clock.synced': '时钟已同步', 'clock.jumped': '时钟跳变', 'storage.pressure': '存储空间紧张', 'storage.dropped': '已丢弃遥测数据',
      'storage.error': '存储故障', 'storage.recovered': '存储恢复', 'storage.corrupt': '存储文件损坏',
    },
    decisions: { granted: '放行', denied: '拒绝', pending: '待处理' },
    reasons: {
      resident: '业主车辆', visitor: '访客', 'lane-not-allowed': '无此车道权限', expired: '权限已过期', 'low-confidence': '识别不可靠', 'no-plate': '未识别车牌',
      exit: '出场', 'exit-no-entry': '无入场记录', 'fee-due': '需缴费',
    },
    actors: {
      console: '值班台', remote: '平台', 'exit-button': '出门按钮', 'fire-alarm': '火警', schedule: '定时', camera: '车牌识别', timeout: '自动', shutdown: '停机',
      startup: '开机', 'fire-alarm-cleared': '火警解除', 'safety-loop': '地感', 'auto-close': '自动落杆',
      qr: '访客二维码', card: '门禁卡', terminal: '人脸/刷卡终端',
    },
    accessRefusals: {
      unreadable: '无法识别', malformed: '二维码格式错误', 'bad-signature': '二维码签名无效', 'not-configured': '未配置访客码公钥', 'not-accepted': '此读头不接受该凭证',
      revoked: '通行码已撤销', 'not-yet-valid': '尚未生效', expired: '已过期', 'wrong-door': '无此门权限', 'used-up': '次数已用完', 'not-recorded': '无法记录使用（存储故障）', 'clock-unsynced': '网关时钟未同步',
      'not-listed': '未登记的卡', 'outside-schedule': '不在允许时段', 'fire-alarm': '火警中', 'door-fault': '门故障', 'refused-by-terminal': '终端拒绝',
    },
    methods: {
      card: '刷卡', 'card-and-password': '卡+密码', fingerprint: '指纹', 'card-and-fingerprint': '卡+指纹', 'card-fingerprint-password': '卡+指纹+密码',
      'fingerprint-and-password': '指纹+密码', 'person-and-fingerprint': '工号+指纹', 'person-fingerprint-password': '工号+指纹+密码', face: '人脸',
      'person-and-face': '工号+人脸', 'person-and-password': '工号+密码', password: '密码', remote: '远程开门', button: '出门按钮', unknown: '未知方式',
    },
    faults: {
      BOARD_OFFLINE: 'I/O 板离线', TRAVEL_TIMEOUT: '运行超时', MODBUS_TIMEOUT: '电表无应答', MODBUS_EXCEPTION: '电表拒绝读取', MODBUS_UNIT_BACKOFF: '电表暂停轮询',
      DLT645_REFUSED: '电表拒绝读取', SERIAL_DISCONNECTED: '串口断开', BUS_CLOSED: '总线已关闭', READER_OFFLINE: '读头离线', INTERNAL: '内部错误',
    },
    refusals: {
      unsafe: '不安全：车道上有车辆', 'fire-alarm': '火警期间不可操作', offline: '设备离线', 'not-supported': '不支持此操作', 'unknown-device': '无此设备',
      invalid: '请求无效', expired: '指令已过期', replayed: '重复指令', 'bad-signature': '签名错误', 'stale-version': '版本过旧',
    },
    loginFailures: { 'bad-credentials': '密码错误', 'account-locked': '账户已锁定', 'address-locked': '地址已锁定' },
    alarmKinds: { perimeter: '周界', smoke: '烟感', gas: '燃气', water: '水浸', panic: '紧急按钮' },
    sources: { gateway: '网关', console: '值班台', 'fire-alarm': '火警输入', journal: '存储', access: '门禁' },
    values: {
      voltage: '电压', current: '电流', power: '功率', apparentPower: '视在功率', reactivePower: '无功功率', powerFactor: '功率因数', frequency: '频率',
      energyImport: '正向电能', energyExport: '反向电能', energyTotal: '总电能', temperature: '温度', L1: 'A相', L2: 'B相', L3: 'C相',
    },
  },
  en: {
    ui: {
      title: 'Estate gateway', logout: 'Log out', username: 'User name', password: 'Password', login: 'Log in', devices: 'Devices', io: 'I/O test',
      fire: 'FIRE ALARM: every door and lane released', waiting: 'Visitors waiting', events: 'Live events', allow: 'Let in', deny: 'Refuse',
      uplinkOn: 'uplink connected', uplinkOff: 'uplink down', backlog: 'backlog', faults: 'faults', badLogin: 'Wrong user name or password',
      locked: 'Too many failed logins; try again in {s} s', noAdmin: 'No accounts yet. On the gateway, run:', failed: 'Failed', pulse: 'Pulse', set: 'Set 1', clear: 'Set 0',
      lastRead: 'last read', online: 'online', offline: 'offline', pin: 'Pin', dir: 'Dir', value: 'Value', device: 'Device', in: 'in', out: 'out',
      noPlate: 'no plate', fee: 'fee', fault: 'fault', door: 'door', noEvents: 'No events yet', noReading: 'no reading yet',
      passes: 'Visitor passes', lane: 'lane', pass: 'pass', card: 'card', person: 'person', usesLeft: '{n} uses left', oneUseLeft: '1 use left', until: 'valid until', revoked: 'revoked',
    },
    doorContact: { open: 'door open', closed: 'door closed', unknown: 'no contact' },
    doorAlarm: { forced: 'FORCED OPEN', 'held-open': 'HELD OPEN' },
    events: {
      'gateway.started': 'Gateway started', 'gateway.stopping': 'Gateway stopping', 'door.unlocked': 'Door unlocked', 'access.denied': 'Access refused', 'door.locked': 'Door locked', 'door.opened': 'Door opened',
      'door.closed': 'Door closed', 'door.forced': 'Door forced open', 'door.held-open': 'Door held open', 'vehicle.entry': 'Vehicle in', 'vehicle.exit': 'Vehicle out',
      'vehicle.decided': 'Visitor decided', 'barrier.opened': 'Barrier opened', 'barrier.closed': 'Barrier closed', 'barrier.blocked': 'Barrier blocked',
      'bollard.lowered': 'Bollard lowered', 'bollard.raised': 'Bollard raised', 'bollard.blocked': 'Bollard blocked', 'bollard.fault': 'Bollard fault',
      'meter.reading': 'Meter reading', 'alarm.raised': 'Alarm', 'alarm.cleared': 'Alarm cleared', 'fire-alarm.raised': 'FIRE ALARM', 'fire-alarm.cleared': 'Fire alarm cleared',
      'device.fault': 'Device fault', 'device.recovered': 'Device recovered', 'audit.login': 'Login', 'audit.login-failed': 'Failed login', 'audit.command': 'Platform command',
      'audit.config': 'Remote configuration', 'audit.upgrade': 'Remote upgrade', 'clock.unsynced': 'Clock not synchronised', 'clock.synced': 'Clock synchronised', 'clock.jumped': 'Clock jumped',
      'storage.pressure': 'Storage nearly full', 'storage.dropped': 'Telemetry dropped', 'storage.error': 'Storage error', 'storage.recovered': 'Storage recovered',
      'storage.corrupt': 'Storage file corrupt',
    },
    decisions: { granted: 'let in', denied: 'refused', pending: 'waiting' },
    reasons: {
      resident: 'resident', visitor: 'visitor', 'lane-not-allowed': 'not allowed on this lane', expired: 'permission expired', 'low-confidence': 'unclear read',
      'no-plate': 'no plate read', exit: 'exit', 'exit-no-entry': 'no entry recorded', 'fee-due': 'fee due',
    },
    actors: {
      console: 'console', remote: 'platform', 'exit-button': 'exit button', 'fire-alarm': 'fire alarm', schedule: 'schedule', camera: 'plate camera', timeout: 'timer',
      shutdown: 'shutdown', startup: 'start-up', 'fire-alarm-cleared': 'fire alarm cleared', 'safety-loop': 'safety loop', 'auto-close': 'auto close',
      qr: 'visitor QR pass', card: 'card', terminal: 'face/card terminal',
    },
    accessRefusals: {
      unreadable: 'unreadable', malformed: 'not a valid pass', 'bad-signature': 'pass signature invalid', 'not-configured': 'no pass key configured', 'not-accepted': 'not taken at this reader',
      revoked: 'pass revoked', 'not-yet-valid': 'not valid yet', expired: 'expired', 'wrong-door': 'not for this door', 'used-up': 'no uses left', 'not-recorded': 'use could not be recorded (storage fault)', 'clock-unsynced': "gateway clock not synchronised",
      'not-listed': 'unknown card', 'outside-schedule': 'outside its hours', 'fire-alarm': 'fire alarm', 'door-fault': 'door fault', 'refused-by-terminal': 'refused by the terminal',
    },
    methods: {
      card: 'card', 'card-and-password': 'card + password', fingerprint: 'fingerprint', 'card-and-fingerprint': 'card + fingerprint', 'card-fingerprint-password': 'card + fingerprint + password',
      'fingerprint-and-password': 'fingerprint + password', 'person-and-fingerprint': 'ID + fingerprint', 'person-fingerprint-password': 'ID + fingerprint + password', face: 'face',
      'person-and-face': 'ID + face', 'person-and-password': 'ID + password', password: 'password', remote: 'remote open', button: 'exit button', unknown: 'unknown method',
    },
    faults: {
      BOARD_OFFLINE: 'I/O board offline', TRAVEL_TIMEOUT: 'did not reach its limit', MODBUS_TIMEOUT: 'meter not answering', MODBUS_EXCEPTION: 'meter refused the read',
      MODBUS_UNIT_BACKOFF: 'meter paused', DLT645_REFUSED: 'meter refused the read', SERIAL_DISCONNECTED: 'serial line gone', BUS_CLOSED: 'bus closed', READER_OFFLINE: 'reader offline', INTERNAL: 'internal error',
    },
    refusals: {
      unsafe: 'Unsafe: vehicle on the lane', 'fire-alarm': 'Not during the fire alarm', offline: 'Device offline', 'not-supported': 'Not supported', 'unknown-device': 'No such device',
      invalid: 'Invalid request', expired: 'Command expired', replayed: 'Command repeated', 'bad-signature': 'Bad signature', 'stale-version': 'Older version',
    },
    loginFailures: { 'bad-credentials': 'wrong password', 'account-locked': 'account locked', 'address-locked': 'address locked' },
    alarmKinds: { perimeter: 'perimeter', smoke: 'smoke', gas: 'gas', water: 'water', panic: 'panic button' },
    sources: { gateway: 'Gateway', console: 'Console', 'fire-alarm': 'Fire alarm input', journal: 'Storage', access: 'Access control' },
    values: {
      voltage: 'Voltage', current: 'Current', power: 'Power', apparentPower: 'Apparent power', reactivePower: 'Reactive power', powerFactor: 'Power factor',
      frequency: 'Frequency', energyImport: 'Energy in', energyExport: 'Energy out', energyTotal: 'Energy total', temperature: 'Temperature', L1: 'L1', L2: 'L2', L3: 'L3',
    },
  },
};

/**
 * Looks a word up; a missing one shows as itself, never as its key path (the vocabulary test
 * keeps that from happening for every word the gateway sends).
 * @param {Lang} lang
 * @param {string} group
 * @param {string} word
 * @returns {string}
 */
export function word(lang, group, word) {
  const table = T[lang]?.[group];
  const found = table?.[word];
  return typeof found === 'string' ? found : word;
}

/** Units by the suffix of a value's name, with the decimals a guard needs. */
const UNITS = /** @type {Array<[RegExp, string, number]>} */ ([
  [/Kwh$/, 'kWh', 1],
  [/VA$/, 'VA', 0],
  [/Var$/, 'var', 0],
  [/Hz$/, 'Hz', 2],
  [/W$/, 'W', 0],
  [/V$/, 'V', 1],
  [/A$/, 'A', 2],
  [/C$/, '°C', 1],
]);

/**
 * A meter value as a person reads it: `voltageL1V 228.6068` → `A相电压 228.6 V` / `Voltage L1 228.6 V`.
 * @param {Lang} lang
 * @param {string} name
 * @param {number} value
 * @returns {{ label: string, text: string }}
 */
export function meterValue(lang, name, value) {
  let unit = '';
  let decimals = 2;
  let base = name;
  for (const [re, u, d] of UNITS) {
    if (re.test(name)) {
      unit = u;
      decimals = d;
      base = name.replace(re, '');
      break;
    }
  }
  const phase = /(L[123])$/.exec(base)?.[1];
  if (phase) base = base.slice(0, -2);
  const what = word(lang, 'values', base);
  const label = phase ? (lang === 'zh-CN' ? `${word(lang, 'values', phase)}${what}` : `${what} ${word(lang, 'values', phase)}`) : what;
  const text = `${Number(value).toFixed(decimals)}${unit ? ` ${unit}` : ''}`;
  return { label, text };
}
