/**
 * A reminder cancelled because its plan stopped fitting (the end date moved, the contract was cancelled) comes back
 * when the same plan is current again (the end date moved back, the contract restarted): revived with a new
 * generation, so its execution gets a new name.
 */
import { describe, expect, it } from 'vitest';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { reminderTouchpointId } from '../../../core/contracts/reminders.ts';
import { addCalendarDays } from '../../../core/contracts/renewal-offsets.ts';
import { applyContractEvent, runRenewalSweep } from '../../../core/contracts/sweep-renewals.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import { InMemoryContractCustomers, InMemorySweepCursors, contractEnvelope, contractsWithMetrics, startedDetail } from './fakes.ts';

const CAMPAIGN = { campaignId: 'contract-renewal', offsetsDays: [60, 30, 7] };
const event = (type: string, detail: Record<string, unknown>) => parseContractEvent(contractEnvelope(type, { contractId: 'ctr-1', customerId: 'cust-1', ...detail }));
const a60 = reminderTouchpointId('contract-renewal', 'ctr-1', '2027-03-28', 60);

async function plannedWorld() {
  const deps = { ...contractsWithMetrics(), touchpoints: new InMemoryTouchpoints(), customers: new InMemoryContractCustomers() };
  const cursors = new InMemorySweepCursors();
  const planning = { campaigns: [CAMPAIGN], cursors };
  await applyContractEvent(event('Contract Started', startedDetail()), { ...deps, planning });
  // The contract ends 2027-03-28; its 60-day reminder is on 2027-01-27: daily sweeps through 2027-01-26 plan it.
  for (let day = '2027-01-20'; day <= '2027-01-26'; day = addCalendarDays(day, 1)) {
    await runRenewalSweep(`${day}T03:00:00.000Z`, CAMPAIGN, { ...deps, cursors });
  }
  expect(deps.touchpoints.items.get(a60)).toMatchObject({ status: 'PENDING', generation: 0 });
  return { deps, planning };
}

describe('revived renewal reminders', () => {
  it('an end date moved away and back brings the cancelled reminder back, once, with a new generation', async () => {
    const { deps, planning } = await plannedWorld();
    await applyContractEvent(event('Contract Updated', { endDate: '2027-04-28', occurredAt: '2027-01-26T10:00:00Z' }), { ...deps, planning });
    expect(deps.touchpoints.items.get(a60)?.status).toBe('CANCELLED');

    const back = await applyContractEvent(event('Contract Updated', { endDate: '2027-03-28', occurredAt: '2027-01-26T11:00:00Z' }), { ...deps, planning });
    expect(back.touchpointsCreated).toEqual([a60]);
    expect(deps.touchpoints.items.get(a60)).toMatchObject({ status: 'PENDING', generation: 1, context: { contract: { endDate: '2027-03-28', offsetDays: 60 } } });
    expect(deps.touchpoints.items.get(a60)?.dueShard).toBeDefined();

    // The same event again changes nothing.
    const again = await applyContractEvent(event('Contract Updated', { endDate: '2027-03-28', occurredAt: '2027-01-26T11:00:00Z' }), { ...deps, planning });
    expect(again.touchpointsCreated).toEqual([]);
    expect(deps.touchpoints.items.get(a60)?.generation).toBe(1);
  });

  it('a contract cancelled and started again gets its reminders back', async () => {
    const { deps, planning } = await plannedWorld();
    await applyContractEvent(event('Contract Cancelled', { occurredAt: '2027-01-26T10:00:00Z' }), { ...deps, planning });
    expect(deps.touchpoints.items.get(a60)?.status).toBe('CANCELLED');
    const restarted = await applyContractEvent(event('Contract Started', startedDetail({ occurredAt: '2027-01-26T11:00:00Z' })), { ...deps, planning });
    expect(restarted.touchpointsCreated).toContain(a60);
    expect(deps.touchpoints.items.get(a60)).toMatchObject({ status: 'PENDING', generation: 1 });
  });
});
