import { beforeEach, describe, expect, it } from 'vitest';
import { importContracts, importFormatOf, parseContractImport } from '../../../core/contracts/import.ts';
import { reminderTouchpointId } from '../../../core/contracts/reminders.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import { InMemoryContractCustomers, InMemoryContracts } from './fakes.ts';

const HEADER = 'contractId,customerId,email,name,timeZone,locale,marketingConsent,plan,value,currency,startDate,endDate,autoRenew,updatedAt';
const row = (fields: Partial<Record<string, string>> = {}) => {
  const values: Record<string, string> = {
    contractId: 'ctr-1',
    customerId: 'cust-1',
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    timeZone: 'Europe/Berlin',
    locale: 'en',
    marketingConsent: 'true',
    plan: 'pro-annual',
    value: '1200',
    currency: 'EUR',
    startDate: '2026-03-29',
    endDate: '2027-03-28',
    autoRenew: 'false',
    updatedAt: '',
    ...fields,
  };
  return HEADER.split(',').map((column) => values[column]).join(',');
};

const BAD_FILE = [
  HEADER,
  row(),
  row({ contractId: 'ctr-bad-date', endDate: '2027-02-30' }),
  row({ contractId: 'ctr-bad-profile', email: 'ada-at-example', currency: 'EUX' }),
  row({ contractId: 'ctr-2', customerId: 'cust-2', name: '"Hopper, Grace"', timeZone: 'America/Los_Angeles', value: '99.5', autoRenew: 'TRUE' }),
  'ctr-short,cust-3,x@example.com,Short Row,Europe/Berlin,en,true,pro,1,EUR,2026-01-01,2027-01-01,false',
  row({ customerId: 'cust-9' }),
  row({ contractId: 'ctr-bad-types', value: 'twelve', autoRenew: 'maybe' }),
  row({ contractId: 'ctr-3', customerId: 'cust-3', endDate: '2028-02-29', updatedAt: '2026-05-01T00:00:00Z' }),
].join('\r\n');

const AT = '2026-06-01T12:00:00.000Z';

describe('parseContractImport', () => {
  it('reports every bad row with its line and what is wrong, and keeps the good ones', () => {
    const { good, bad } = parseContractImport(BAD_FILE, 'csv');

    expect(bad).toEqual([
      { line: 3, reason: 'endDate: "2027-02-30" is not a calendar date (YYYY-MM-DD, e.g. 2027-02-28)' },
      { line: 4, reason: 'email: must be an email address; currency: "EUX" is not an ISO 4217 currency code (e.g. EUR, USD)' },
      { line: 6, reason: 'row: has 13 fields, the header has 14 (quote a field that contains a comma)' },
      { line: 7, reason: 'contractId: repeated (first on line 2); each contract may appear once per file' },
      { line: 8, reason: 'value: must be a number, e.g. 499.5; autoRenew: must be true or false' },
    ]);
    expect(good.map((r) => r.contractId)).toEqual(['ctr-1', 'ctr-2', 'ctr-3']);
    expect(good[1]).toEqual({
      contractId: 'ctr-2',
      customerId: 'cust-2',
      email: 'ada@example.com',
      name: 'Hopper, Grace',
      timeZone: 'America/Los_Angeles',
      locale: 'en',
      marketingConsent: true,
      plan: 'pro-annual',
      value: 99.5,
      currency: 'EUR',
      startDate: '2026-03-29',
      endDate: '2027-03-28',
      autoRenew: true,
    });
    expect(good[2]?.updatedAt).toBe('2026-05-01T00:00:00Z');
  });

  it('rejects a header with missing or unknown columns as a whole', () => {
    const text = ['contractId,customerId,email,name,timeZone,locale,marketingConsent,plan,value,currency,startDate,endDate,auto_renew', row()].join('\n');

    expect(parseContractImport(text, 'csv')).toEqual({
      good: [],
      bad: [
        {
          line: 1,
          reason:
            'header: missing column(s) autoRenew; header: unknown column(s) "auto_renew" (expected: contractId, customerId, email, ' +
            'name, timeZone, locale, marketingConsent, plan, value, currency, startDate, endDate, autoRenew, updatedAt)',
        },
      ],
    });
  });

  it('reads JSON Lines: bad JSON, non-objects and misspelt fields are reported per line', () => {
    const good = {
      contractId: 'ctr-1',
      customerId: 'cust-1',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      timeZone: 'Europe/Berlin',
      locale: 'en',
      marketingConsent: true,
      plan: 'pro-annual',
      value: 1200,
      currency: 'EUR',
      startDate: '2026-03-29',
      endDate: '2027-03-28',
      autoRenew: false,
    };
    const { endDate, ...misspelt } = good;
    const text = [JSON.stringify(good), '{"contractId": "ctr-2",', '', '[1, 2]', JSON.stringify({ ...misspelt, contractId: 'ctr-4', enddate: endDate })].join('\n');

    const parsed = parseContractImport(text, importFormatOf('contracts.jsonl'));

    expect(parsed.good).toEqual([good]);
    expect(parsed.bad).toEqual([
      { line: 2, reason: 'row: not valid JSON (expected one JSON object per line)' },
      { line: 4, reason: 'row: must be a JSON object' },
      {
        line: 5,
        reason:
          'endDate: must be a calendar date string (YYYY-MM-DD); "enddate": unknown field (expected: contractId, customerId, email, name, ' +
          'timeZone, locale, marketingConsent, plan, value, currency, startDate, endDate, autoRenew, updatedAt)',
      },
    ]);
  });

  it('chooses the format by file name', () => {
    expect(importFormatOf('book.NDJSON')).toBe('jsonl');
    expect(importFormatOf('book.csv')).toBe('csv');
  });
});

describe('importContracts', () => {
  let deps: { contracts: InMemoryContracts; customers: InMemoryContractCustomers; touchpoints: InMemoryTouchpoints };
  beforeEach(() => {
    deps = { contracts: new InMemoryContracts(), customers: new InMemoryContractCustomers(), touchpoints: new InMemoryTouchpoints() };
  });

  it('imports the good rows of a bad file, and importing it again changes nothing', async () => {
    // Act
    const { good } = parseContractImport(BAD_FILE, 'csv');
    const first = await importContracts(good, deps, { at: AT });
    const contractsAfterFirst = structuredClone([...deps.contracts.items.entries()]);
    const profileWrites = deps.customers.writes.length;
    const second = await importContracts(parseContractImport(BAD_FILE, 'csv').good, deps, { at: '2026-06-02T12:00:00.000Z' });

    // Assess
    expect(first).toEqual({ created: 3, updated: 0, unchanged: 0, stale: 0 });
    expect(await deps.contracts.get('ctr-3')).toMatchObject({
      status: 'ACTIVE',
      endDate: '2028-02-29',
      endsAt: '2028-02-28T23:00:00.000Z',
      version: '2026-05-01T00:00:00.000Z',
    });
    expect(await deps.contracts.get('ctr-2')).toMatchObject({ endsAt: '2027-03-28T07:00:00.000Z', version: AT });
    expect(await deps.customers.get('cust-2')).toMatchObject({ name: 'Hopper, Grace', timeZone: 'America/Los_Angeles' });

    expect(second).toEqual({ created: 0, updated: 0, unchanged: 3, stale: 0 });
    expect([...deps.contracts.items.entries()]).toEqual(contractsAfterFirst);
    expect(deps.customers.writes).toHaveLength(profileWrites);
  });

  it('updates a contract whose terms changed when the row is newer, cancelling reminders of the old end date', async () => {
    // Prepare
    const file = (fields: Partial<Record<string, string>>) => parseContractImport([HEADER, row(fields)].join('\n'), 'csv').good;
    await importContracts(file({ updatedAt: '2026-05-01T00:00:00Z' }), deps, { at: AT });
    const reminderId = reminderTouchpointId('contract-renewal', 'ctr-1', '2027-03-28', 30);
    await deps.touchpoints.create({
      touchpointId: reminderId,
      campaignId: 'contract-renewal',
      kind: 'renewal-reminder',
      customerId: 'cust-1',
      dueAt: '2027-02-26T08:00:00.000Z',
      status: 'PENDING',
      generation: 0,
      context: { contract: { contractId: 'ctr-1', plan: 'pro-annual', value: 1200, currency: 'EUR', endDate: '2027-03-28', autoRenew: false, offsetDays: 30 } },
      createdAt: AT,
      updatedAt: AT,
    });

    // Act
    const older = await importContracts(file({ endDate: '2027-06-30', updatedAt: '2026-04-01T00:00:00Z' }), deps, { at: AT });
    const newer = await importContracts(file({ endDate: '2027-06-30', updatedAt: '2026-05-02T00:00:00Z' }), deps, { at: AT });

    // Assess
    expect(older).toEqual({ created: 0, updated: 0, unchanged: 0, stale: 1 });
    expect(newer).toEqual({ created: 0, updated: 1, unchanged: 0, stale: 0 });
    expect(await deps.contracts.get('ctr-1')).toMatchObject({ endDate: '2027-06-30', endsAt: '2027-06-29T22:00:00.000Z', version: '2026-05-02T00:00:00.000Z' });
    expect(await deps.touchpoints.get(reminderId)).toMatchObject({ status: 'CANCELLED', reason: 'contract end date changed' });
  });
});
