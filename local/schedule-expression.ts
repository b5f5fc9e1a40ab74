/**
 * EventBridge Scheduler expressions (`rate(...)`, `cron(...)`, evaluated in UTC), so the local scheduler can run the
 * same SCHEDULES as AWS. Rate schedules are aligned to the epoch (rate(1 day) fires at 00:00 UTC); in AWS they count
 * from the schedule's creation, which no test or handler may depend on.
 */

export type ScheduleExpression =
  | { kind: 'rate'; text: string; periodMs: number }
  | {
      kind: 'cron';
      text: string;
      minutes: number[];
      hours: number[];
      /** `null` = any day (`*` or `?`). */
      daysOfMonth: ReadonlySet<number> | null;
      months: ReadonlySet<number>;
      /** 1 = Sunday … 7 = Saturday, as in AWS; `null` = any. */
      daysOfWeek: ReadonlySet<number> | null;
      years: ReadonlySet<number> | null;
    };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const RATE_UNITS: Record<string, number> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  day: DAY_MS,
  days: DAY_MS,
};
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export function parseScheduleExpression(text: string): ScheduleExpression {
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/i.exec(text.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = RATE_UNITS[rate[2]!.toLowerCase()];
    if (!unit || value < 1) throw new SyntaxError(`${text}: expected rate(<n> minute|minutes|hour|hours|day|days) with n >= 1`);
    return { kind: 'rate', text, periodMs: value * unit };
  }
  const cron = /^cron\((.*)\)$/i.exec(text.trim());
  if (!cron) throw new SyntaxError(`${text}: expected rate(...) or cron(...)`);
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new SyntaxError(`${text}: cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  }
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if (dom !== '?' && dow !== '?') throw new SyntaxError(`${text}: one of day-of-month and day-of-week must be "?" (as in AWS)`);
  return {
    kind: 'cron',
    text,
    minutes: [...parseField(min, 0, 59, text, 'minutes')!].sort((a, b) => a - b),
    hours: [...parseField(hour, 0, 23, text, 'hours')!].sort((a, b) => a - b),
    daysOfMonth: parseField(dom, 1, 31, text, 'day-of-month'),
    months: parseField(month, 1, 12, text, 'month', MONTH_NAMES) ?? range(1, 12),
    daysOfWeek: parseField(dow, 1, 7, text, 'day-of-week', DAY_NAMES),
    years: parseField(year, 1970, 2199, text, 'year'),
  };
}

/** Parses one cron field: `*`, `?`, `5`, `1,15`, `MON-FRI`, `0/15`, `10-50/5`. `null` means "any". */
function parseField(field: string, min: number, max: number, text: string, name: string, names?: string[]): Set<number> | null {
  if (field === '*' || field === '?') return name === 'minutes' || name === 'hours' ? range(min, max) : null;
  const values = new Set<number>();
  const value = (token: string): number => {
    const index = names?.indexOf(token.toUpperCase()) ?? -1;
    const n = index >= 0 ? index + 1 : Number(token);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new SyntaxError(`${text}: ${name} value "${token}" is not supported (expected ${min}-${max}${names ? ' or a name' : ''})`);
    }
    return n;
  };
  for (const part of field.split(',')) {
    const [base, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new SyntaxError(`${text}: bad step in ${name} "${part}"`);
    let from: number;
    let to: number;
    if (base === '*') [from, to] = [min, max];
    else if (base.includes('-')) {
      const [a, b] = base.split('-') as [string, string];
      [from, to] = [value(a), value(b)];
    } else {
      from = value(base);
      to = stepText === undefined ? from : max;
    }
    if (from > to) throw new SyntaxError(`${text}: range "${part}" in ${name} runs backwards`);
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

function range(from: number, to: number): Set<number> {
  const values = new Set<number>();
  for (let n = from; n <= to; n++) values.add(n);
  return values;
}

/** The first fire time at or after `ms` (epoch milliseconds), or undefined if there is none within 10 years. */
export function nextFireAtOrAfter(expression: ScheduleExpression, ms: number): number | undefined {
  if (expression.kind === 'rate') return Math.ceil(ms / expression.periodMs) * expression.periodMs;
  const startMinute = Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
  const startDay = Math.floor(startMinute / DAY_MS) * DAY_MS;
  for (let day = startDay; day < startDay + 3_660 * DAY_MS; day += DAY_MS) {
    const date = new Date(day);
    if (expression.years && !expression.years.has(date.getUTCFullYear())) continue;
    if (!expression.months.has(date.getUTCMonth() + 1)) continue;
    if (expression.daysOfMonth && !expression.daysOfMonth.has(date.getUTCDate())) continue;
    if (expression.daysOfWeek && !expression.daysOfWeek.has(date.getUTCDay() + 1)) continue;
    for (const hour of expression.hours) {
      for (const minute of expression.minutes) {
        const at = day + hour * 3_600_000 + minute * MINUTE_MS;
        if (at >= startMinute) return at;
      }
    }
  }
  return undefined;
}

export function nextFireAfter(expression: ScheduleExpression, ms: number): number | undefined {
  return nextFireAtOrAfter(expression, ms + 1);
}

/** True for schedules that fire at every minute boundary, e.g. rate(1 minute) or cron(* * * * ? *). */
export function firesEveryMinute(expression: ScheduleExpression): boolean {
  if (expression.kind === 'rate') return expression.periodMs === MINUTE_MS;
  return (
    expression.minutes.length === 60 &&
    expression.hours.length === 24 &&
    expression.daysOfMonth === null &&
    expression.daysOfWeek === null &&
    expression.months.size === 12 &&
    expression.years === null
  );
}
