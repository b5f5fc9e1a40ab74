import { verifyLink, type SigningKeySource } from '../links.ts';
import { CANCELLABLE_STATUSES } from '../model.ts';
import type { CustomerRepository, TouchpointRepository } from '../ports.ts';
import { toUtcIso } from '../schedule.ts';

export interface UnsubscribeDeps {
  customers: CustomerRepository;
  touchpoints: TouchpointRepository;
  signingKey: SigningKeySource;
}

/** Checks an unsubscribe link without changing anything (the GET confirm page). Throws InvalidLinkTokenError. */
export async function verifyUnsubscribeLink(customerId: string, token: string, deps: Pick<UnsubscribeDeps, 'signingKey'>) {
  verifyLink(await deps.signingKey(), 'unsubscribe', customerId, token);
}

/**
 * One-click unsubscribe (RFC 8058).
 *
 * Primary course:
 *  1. Verify the signed link (constant-time HMAC); a bad link changes nothing.
 *  2. Mark the customer unsubscribed (idempotent).
 *  3. Cancel every touchpoint of theirs that is still PENDING or DISPATCHED.
 */
export async function unsubscribeCustomer(
  request: { customerId: string; token: string; now: string },
  deps: UnsubscribeDeps,
): Promise<{ alreadyUnsubscribed: boolean; touchpointsCancelled: number }> {
  await verifyUnsubscribeLink(request.customerId, request.token, deps);
  const now = toUtcIso(request.now);
  const changed = await deps.customers.markUnsubscribed(request.customerId, now);
  let cancelled = 0;
  for (const touchpoint of await deps.touchpoints.listByCustomer(request.customerId)) {
    if (!CANCELLABLE_STATUSES.includes(touchpoint.status)) continue;
    if (await deps.touchpoints.cancel(touchpoint.touchpointId, 'customer unsubscribed', now)) cancelled += 1;
  }
  return { alreadyUnsubscribed: !changed, touchpointsCancelled: cancelled };
}
