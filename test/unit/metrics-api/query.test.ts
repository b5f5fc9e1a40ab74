/** GET /metrics's query: which range each combination of from, to and days means. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors.ts';
import { parseMetricsQuery } from '../../../functions/metrics-api/query.ts';

const TODAY = '2031-06-02';

describe('parseMetricsQuery', () => {
  it.each([
    [{}, { from: '2031-03-05', to: TODAY }],
    [{ days: '1' }, { from: TODAY, to: TODAY }],
    [{ days: '30' }, { from: '2031-05-04', to: TODAY }],
    [{ to: '2031-01-31', days: '31' }, { from: '2031-01-01', to: '2031-01-31' }],
    [{ from: '2031-05-01' }, { from: '2031-05-01', to: TODAY }],
    [{ to: '2031-01-31' }, { from: '2030-11-03', to: '2031-01-31' }],
    [{ from: '2031-01-01', to: '2031-03-31', campaign: 'nps-after-purchase' }, { from: '2031-01-01', to: '2031-03-31', campaignId: 'nps-after-purchase' }],
  ])('%o → %o', (query, range) => {
    expect(parseMetricsQuery(query, TODAY)).toEqual(range);
  });

  it('refuses days with from, as the CLI refuses --days with --from', () => {
    expect(() => parseMetricsQuery({ from: '2031-01-01', days: '31' }, TODAY)).toThrowError('days: counts back from to, so it cannot be given with from');
  });

  it('lists every problem at once, each with its parameter', () => {
    expect(() => parseMetricsQuery({ from: '2031-1-1', days: 'many', campaign: '-x', token: 'abc' }, TODAY)).toThrowError(
      new InvalidInputError(
        'metrics query is invalid: token: is not a parameter (expected from, to, days, campaign); from: "2031-1-1" is not a calendar date (YYYY-MM-DD); ' +
          'days: "many" is not a whole number of days from 1 to 3700; campaign: "-x" is not a campaign id (lowercase letters, digits and dashes)',
      ),
    );
  });
});
