import { createHash } from 'node:crypto';

/**
 * Deterministic touchpoint id: the same campaign, subject (e.g. order) and step always give the same id, so a
 * duplicated event writes nothing new. The id is also a valid Step Functions execution name (≤ 80 characters,
 * letters, digits, `-`, `_`) once the generation suffix is added.
 */
export function touchpointIdFor(campaignId: string, subjectKey: string, step = 'main'): string {
  const digest = createHash('sha256').update(`${campaignId}\u0000${subjectKey}\u0000${step}`).digest('hex');
  return `tp-${digest.slice(0, 40)}`;
}

export function executionNameFor(touchpointId: string, generation: number): string {
  return `${touchpointId}-g${generation}`;
}

/** Spreads pending touchpoints over `shards` index partitions so no partition of the due index runs hot. */
export function shardOf(touchpointId: string, shards: number): number {
  const digest = createHash('sha256').update(touchpointId).digest();
  return digest.readUInt32BE(0) % shards;
}

/** The one reminder of a survey send (cancelled when the survey is answered). */
export function surveyReminderIdFor(campaignId: string, surveyId: string): string {
  return touchpointIdFor(campaignId, `survey:${surveyId}`, 'reminder');
}
