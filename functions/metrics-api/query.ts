/**
 * The query of GET /metrics, with the meaning the CLI's options have (`outreach metrics`, docs/metrics.md): `to` (UTC
 * day, default today), `from` (default: `days` days up to `to`), `days` (default DEFAULT_DAYS; not with `from`) and
 * `campaign`. Each problem names its parameter, so a 400 says what to fix. Range checks that need both ends (`to`
 * before `from`, too long) are readMetrics's (compute.ts).
 */
import { addCalendarDays, isCalendarDate } from '../../core/contracts/renewal-offsets.ts';
import { InvalidInputError } from '../../core/errors.ts';
import { MAX_RANGE_DAYS } from '../../core/metrics/compute.ts';

export const DEFAULT_DAYS = 90;
export const QUERY_PARAMETERS = ['from', 'to', 'days', 'campaign'] as const;

const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

export interface ApiMetricsQuery {
  from: string;
  to: string;
  campaignId?: string;
}

/** Throws InvalidInputError listing every problem, each starting with the parameter's name. */
export function parseMetricsQuery(parameters: Readonly<Record<string, string | undefined>> | undefined, today: string): ApiMetricsQuery {
  const given = parameters ?? {};
  const problems: string[] = [];
  const known = QUERY_PARAMETERS as readonly string[];
  for (const name of Object.keys(given).sort()) {
    if (!known.includes(name)) problems.push(`${name}: is not a parameter (expected ${QUERY_PARAMETERS.join(', ')})`);
  }
  const date = (name: 'from' | 'to') => {
    const value = given[name];
    if (value === undefined) return undefined;
    if (!isCalendarDate(value)) problems.push(`${name}: "${value}" is not a calendar date (YYYY-MM-DD)`);
    return value;
  };
  const from = date('from');
  const to = date('to');
  let days: number | undefined;
  if (given.days !== undefined) {
    days = /^\d{1,5}$/.test(given.days) ? Number(given.days) : Number.NaN;
    if (!(days >= 1 && days <= MAX_RANGE_DAYS)) problems.push(`days: "${given.days}" is not a whole number of days from 1 to ${MAX_RANGE_DAYS}`);
    else if (from !== undefined) problems.push('days: counts back from to, so it cannot be given with from');
  }
  const campaignId = given.campaign;
  if (campaignId !== undefined && !CAMPAIGN_ID.test(campaignId)) {
    problems.push(`campaign: "${campaignId}" is not a campaign id (lowercase letters, digits and dashes)`);
  }
  if (problems.length > 0) throw new InvalidInputError(`metrics query is invalid: ${problems.join('; ')}`);

  const end = to ?? today;
  const start = from ?? addCalendarDays(end, -((days ?? DEFAULT_DAYS) - 1));
  return { from: start, to: end, ...(campaignId !== undefined ? { campaignId } : {}) };
}
