/** Planning and cancelling a contract's reminder touchpoints; shared by the sweep, the events and the import. */
import { CANCELLABLE_STATUSES, type Touchpoint } from '../model.ts';
import type { TouchpointRepository } from '../ports.ts';
import { touchpointIdFor } from '../touchpoint-id.ts';
import { type EndingContract, type RenewalCampaign, reminderContext } from './model.ts';
import { hasEnded, reminderDate, reminderDueAt } from './renewal-offsets.ts';

/** Deterministic: the same campaign, contract, term and offset always give the same touchpoint id. */
export function reminderTouchpointId(campaignId: string, contractId: string, endDate: string, offsetDays: number): string {
  return touchpointIdFor(campaignId, `contract:${contractId}:${endDate}:${offsetDays}`);
}

export type ReminderPlan =
  | { touchpoint: Touchpoint }
  /** ended: the contract's last day is over; before-start: the reminder day precedes the contract; past: due already. */
  | { skipped: 'ended' | 'before-start' | 'past' };

/**
 * The reminder `offsetDays` before the contract's end, as a PENDING touchpoint due at the campaign's local send time.
 * `overdue: 'send-now'` (the sweep catching up) makes a reminder whose time has passed due at `now`;
 * `overdue: 'skip'` (a contract event) leaves it out.
 */
export function planReminder(
  contract: EndingContract,
  campaign: Required<RenewalCampaign>,
  offsetDays: number,
  now: string,
  overdue: 'send-now' | 'skip',
): ReminderPlan {
  if (hasEnded(contract.endDate, contract.timeZone, now)) return { skipped: 'ended' };
  if (reminderDate(contract.endDate, offsetDays) < contract.startDate) return { skipped: 'before-start' };
  const due = reminderDueAt(contract.endDate, offsetDays, contract.timeZone, campaign.sendAt);
  if (due <= now && overdue === 'skip') return { skipped: 'past' };
  return {
    touchpoint: {
      touchpointId: reminderTouchpointId(campaign.campaignId, contract.contractId, contract.endDate, offsetDays),
      campaignId: campaign.campaignId,
      kind: 'renewal-reminder',
      customerId: contract.customerId,
      dueAt: due > now ? due : now,
      status: 'PENDING',
      generation: 0,
      context: { contract: reminderContext(contract, offsetDays) },
      createdAt: now,
      updatedAt: now,
    },
  };
}

/** Every renewal reminder ever planned for the contract (any campaign, any term). */
export async function contractReminders(touchpoints: TouchpointRepository, customerId: string, contractId: string): Promise<Touchpoint[]> {
  return (await touchpoints.listByCustomer(customerId)).filter(
    (t) => t.kind === 'renewal-reminder' && t.context.contract?.contractId === contractId,
  );
}

/** Reminders of the term ending on `endDate` that went out. */
export function sentFor(reminders: readonly Touchpoint[], endDate: string): number {
  return reminders.filter((t) => t.status === 'SENT' && t.context.contract?.endDate === endDate).length;
}

/** Cancels the still-cancellable reminders `which` selects; returns the ids it cancelled. */
export async function cancelReminders(
  touchpoints: TouchpointRepository,
  reminders: readonly Touchpoint[],
  which: (reminder: Touchpoint) => boolean,
  reason: string,
  at: string,
): Promise<string[]> {
  const cancelled: string[] = [];
  for (const reminder of reminders) {
    if (!CANCELLABLE_STATUSES.includes(reminder.status) || !which(reminder)) continue;
    if (await touchpoints.cancel(reminder.touchpointId, reason, at)) cancelled.push(reminder.touchpointId);
  }
  return cancelled;
}

/** Runs `task` over `items`, at most `concurrency` at a time, in order of start. */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/**
 * Writes a planned reminder: new, or — when the same reminder (same campaign, contract, end date and offset) was
 * cancelled earlier and the plan is current again (the end date moved back, the contract restarted) — revived.
 * `created` false: it exists already and is not cancelled (planned before, or sent).
 */
export async function writeReminder(touchpoints: TouchpointRepository, touchpoint: Touchpoint): Promise<boolean> {
  return (await touchpoints.create(touchpoint)) || (await touchpoints.revive(touchpoint));
}
