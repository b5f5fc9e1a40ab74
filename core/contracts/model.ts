/** Contract renewal domain types. A contract's reminders are 'renewal-reminder' touchpoints (core/model.ts). */
import { InvalidInputError } from '../errors.ts';
import type { RecordedOutcome } from '../metrics/model.ts';
import type { ContractContext } from '../model.ts';
import { DEFAULT_SEND_AT, isClockTime } from './renewal-offsets.ts';

/**
 * `ACTIVE`: running its first term. `RENEWED`: renewed at least once, running to its new end date. `CANCELLED`:
 * cancelled by the customer (churned). `ENDED`: its last day passed without a renewal (churned). Only a running
 * contract (ACTIVE or RENEWED) is in the byEnd index, so only running contracts are swept for reminders.
 */
export const CONTRACT_STATUSES = ['ACTIVE', 'RENEWED', 'CANCELLED', 'ENDED'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];
export const RUNNING_STATUSES: readonly ContractStatus[] = ['ACTIVE', 'RENEWED'];

export const isRunning = (status: ContractStatus): boolean => RUNNING_STATUSES.includes(status);

/** How the latest term the reminders were for turned out. */
export interface ContractOutcome {
  result: 'RENEWED' | 'CHURNED';
  /** When it was known: the renewal or cancellation event time, or the sweep that saw the end pass. */
  at: string;
  /** Renewal reminders of that term that were sent. */
  remindersSent: number;
  /** The end date of the term the outcome is about. */
  endDate: string;
}

/** What the commerce system says about a contract; everything else is the product's bookkeeping. */
export interface ContractTerms {
  contractId: string;
  customerId: string;
  plan: string;
  value: number;
  /** ISO 4217. */
  currency: string;
  /** First day, a calendar date in the customer's zone (YYYY-MM-DD). */
  startDate: string;
  /** Last day of the current term, a calendar date in the customer's zone (YYYY-MM-DD). */
  endDate: string;
  autoRenew: boolean;
  /** The customer's IANA zone when the contract was recorded; the end date is a day in it. */
  timeZone: string;
}

export interface Contract extends ContractTerms {
  status: ContractStatus;
  /** The instant `endDate` starts in `timeZone` (UTC ISO): the byEnd sort key while running. */
  endsAt: string;
  /** Completed renewals. */
  renewals: number;
  /** The latest term's outcome (what reminders and reports of the contract read). */
  outcome?: ContractOutcome;
  /**
   * Every term's outcome (one per `endDate`) with the customer's NPS segment when it was recorded: the source of the
   * renewal and churn counts (core/metrics/model.ts recordOutcome) and of their rebuild. Only the outcome writes
   * (markRenewed, markCancelled, markEnded) change it. Absent until the first outcome.
   */
  outcomes?: RecordedOutcome[];
  /** Free text from the Cancelled event. Never logged. */
  cancellationReason?: string;
  /**
   * Event time (UTC ISO) of the latest event applied. Events apply only when strictly newer, so an older or
   * duplicated event never overwrites a newer one. Ending by the sweep leaves it alone: a late renewal still wins.
   */
  version: string;
  createdAt: string;
  updatedAt: string;
}

/** The fields of a contract the byEnd index projects: what a sweep needs to plan reminders without reading the table. */
export const ENDING_CONTRACT_FIELDS = [
  'contractId',
  'customerId',
  'plan',
  'value',
  'currency',
  'startDate',
  'endDate',
  'autoRenew',
  'timeZone',
  'endsAt',
  'status',
  'version',
] as const satisfies ReadonlyArray<keyof Contract>;
export type EndingContract = Pick<Contract, (typeof ENDING_CONTRACT_FIELDS)[number]>;

export const TERM_FIELDS = [
  'customerId',
  'plan',
  'value',
  'currency',
  'startDate',
  'endDate',
  'autoRenew',
  'timeZone',
] as const satisfies ReadonlyArray<keyof ContractTerms>;

/** True when both describe the same terms (import idempotency). */
export function sameTerms(a: ContractTerms, b: ContractTerms): boolean {
  return TERM_FIELDS.every((field) => a[field] === b[field]);
}

/**
 * The renewal campaign as the sweep needs it. The integrator maps the campaign rules onto this shape.
 */
export interface RenewalCampaign {
  campaignId: string;
  /** Days before the end date, e.g. [60, 30, 7]; 0 is the last day itself. Whole days, 0–730, no repeats. */
  offsetsDays: readonly number[];
  /** Local wall-clock send time "HH:mm" in the customer's zone; default 09:00. */
  sendAt?: string;
}

export const MAX_OFFSET_DAYS = 730;

/** Checks a campaign before a sweep; throws InvalidInputError naming every problem. */
export function assertRenewalCampaign(campaign: RenewalCampaign): Required<RenewalCampaign> {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(campaign.campaignId)) problems.push('campaignId: must be 1–128 of A–Z a–z 0–9 . _ : @ -');
  if (campaign.offsetsDays.length === 0) problems.push('offsetsDays: must list at least one offset, e.g. [60, 30, 7]');
  campaign.offsetsDays.forEach((offset, i) => {
    if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET_DAYS) {
      problems.push(`offsetsDays[${i}]: ${offset} is not a whole number of days from 0 to ${MAX_OFFSET_DAYS}`);
    } else if (campaign.offsetsDays.indexOf(offset) !== i) {
      problems.push(`offsetsDays[${i}]: ${offset} is listed twice`);
    }
  });
  const sendAt = campaign.sendAt ?? DEFAULT_SEND_AT;
  if (!isClockTime(sendAt)) problems.push(`sendAt: "${sendAt}" is not a 24-hour local time "HH:mm", e.g. "09:00"`);
  if (problems.length > 0) throw new InvalidInputError(`renewal campaign ${campaign.campaignId} is invalid: ${problems.join('; ')}`);
  return { campaignId: campaign.campaignId, offsetsDays: campaign.offsetsDays, sendAt };
}

/** The touchpoint context of one reminder: the contract as it is when the reminder is planned. */
export function reminderContext(contract: EndingContract, offsetDays: number): ContractContext {
  return {
    contractId: contract.contractId,
    plan: contract.plan,
    value: contract.value,
    currency: contract.currency,
    endDate: contract.endDate,
    autoRenew: contract.autoRenew,
    offsetDays,
  };
}

/**
 * For the renewal workflow's eligibility check: whether a planned reminder still fits the contract (it exists, is
 * running, and the reminder is for its current end date). The sweep reads an eventually consistent index, so a
 * reminder can be planned just after a cancellation; this check at send time keeps it from going out.
 */
export function isReminderCurrent(contract: Pick<Contract, 'status' | 'endDate'> | undefined, reminder: ContractContext): boolean {
  return contract !== undefined && isRunning(contract.status) && contract.endDate === reminder.endDate;
}
