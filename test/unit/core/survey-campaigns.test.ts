/**
 * Survey campaigns through the use cases with in-memory ports: the rule checks, the re-survey throttle, the one
 * reminder (planned when the survey is recorded SENT, skipped once answered), the link endpoint (GET writes nothing,
 * POST records and cancels the reminder), and what a Survey Answered event does (latest answer on the customer,
 * follow-up campaigns, the lastNps filter).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadCampaignDirectory, parseCampaignText } from '../../../core/campaigns/load.ts';
import type { Campaign } from '../../../core/campaigns/schema.ts';
import { parseCommerceEvent } from '../../../core/events.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { surveyAnswerUrl } from '../../../core/surveys/tokens.ts';
import { surveyReminderIdFor, touchpointIdFor } from '../../../core/touchpoint-id.ts';
import { answerSurvey } from '../../../core/use-cases/answer-survey.ts';
import { checkEligibility } from '../../../core/use-cases/check-eligibility.ts';
import { ingestCommerceEvent } from '../../../core/use-cases/ingest-commerce-event.ts';
import { recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { renderTouchpointEmail } from '../../../core/use-cases/render-touchpoint-email.ts';
import { InMemoryAnswers, InMemoryCustomers, InMemoryTouchpoints, StaticCampaigns, purchaseEvent, testSurveyKeyring, StaticContracts } from '../fakes.ts';
import { BASE_URL, KEYRING, surveyWorld } from '../surveys/fakes.ts';

const shipped = loadCampaignDirectory('campaigns');
const nps = shipped.find((c) => c.id === 'nps-after-purchase')!;
const review = shipped.find((c) => c.id === 'promoter-review-ask')!;
const checkIn = shipped.find((c) => c.id === 'post-purchase-check-in')!;
const surveyOnly = (overrides: Partial<Campaign> = {}): Campaign => ({ ...nps, quietHours: undefined, ...overrides });

describe('survey rule checks', () => {
  const base = `id: s-1
kind: survey
trigger: { event: Purchase Completed }
delay: P14D
`;
  const template = (html: string, text: string) => `template:
  defaultLocale: en
  locales:
    en: { subject: S, html: "${html}", text: "${text}" }
`;
  const problems = (yaml: string) => parseCampaignText(yaml, 's.yaml').problems;

  it('needs the survey block and the answer links in both parts', () => {
    expect(problems(base + template('<p>hi</p>', 'hi'))).toEqual([
      's.yaml:1 survey: is missing (a survey campaign needs survey: { scale: nps }, or csat or ces)',
      's.yaml:8 template.locales.en.html: must show the answer links: put {{{survey.scaleHtml}}} where they go',
      's.yaml:8 template.locales.en.text: must list the answer links: put {{survey.scaleText}} where they go',
    ]);
    expect(problems(`${base}survey: { scale: nps }\n${template('{{{survey.scaleHtml}}}', '{{survey.scaleText}}')}`)).toEqual([]);
  });

  it('names a wrong scale, a bad duration, a survey block on another kind and a trigger the kind cannot start from', () => {
    expect(problems(`${base}survey: { scale: nsp, reminderAfter: 3 days }\n${template('{{{survey.scaleHtml}}}', '{{survey.scaleText}}')}`)).toEqual([
      's.yaml:5 survey.scale: must be nps, csat or ces',
      's.yaml:5 survey.reminderAfter: "3 days" is not an ISO-8601 duration (try P3D)',
    ]);
    const checkInWithSurvey = `id: c-1
kind: check-in
trigger: { event: Survey Answered }
delay: P1D
survey: { scale: csat }
${template('x', 'y')}`;
    expect(problems(checkInWithSurvey)).toEqual([
      's.yaml:3 trigger.event: a check-in campaign starts from Purchase Completed, not Survey Answered',
      's.yaml:5 survey: is only for survey campaigns (this one is check-in)',
    ]);
    expect(problems(`id: c-2\nkind: check-in\ntrigger: { event: Order Shipped }\ndelay: P1D\n${template('x', 'y')}`)).toEqual([
      's.yaml:3 trigger.event: must be one of: Purchase Completed, Survey Answered, Contract Ending',
    ]);
  });

  it('fills the survey defaults: reminder after P3D, one survey per P90D, links valid P30D, edits for P7D', () => {
    const parsed = parseCampaignText(`${base}survey: { scale: ces }\n${template('{{{survey.scaleHtml}}}', '{{survey.scaleText}}')}`, 's.yaml');
    expect(parsed.campaign?.survey).toEqual({ scale: 'ces', reminderAfter: 'P3D', resurveyAfter: 'P90D', linkValidFor: 'P30D', editWindow: 'P7D' });
  });
});

type World = {
  customers: InMemoryCustomers;
  touchpoints: InMemoryTouchpoints;
  campaigns: StaticCampaigns;
  answers: InMemoryAnswers;
  contracts: StaticContracts;
};

async function plannedSurvey(world: World, orderId = 'o-100', at = '2026-11-01T10:00:00Z'): Promise<Touchpoint> {
  const result = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ orderId, purchasedAt: at }, { time: at })), world);
  const id = result.touchpointsCreated.find((t) => world.touchpoints.items.get(t)?.kind === 'survey')!;
  return world.touchpoints.items.get(id)!;
}

/** Dispatch → eligibility → render → SENT, as the survey workflow runs them. */
async function sendNow(world: World, touchpoint: Touchpoint, now: string) {
  await world.touchpoints.claimForDispatch({ touchpointId: touchpoint.touchpointId, generation: touchpoint.generation, from: 'PENDING', at: now, leaseUntil: now });
  const decision = await checkEligibility({ touchpointId: touchpoint.touchpointId, generation: touchpoint.generation, now }, world);
  if (decision.decision !== 'SEND') return decision;
  await recordTouchpointOutcome(
    { touchpointId: touchpoint.touchpointId, generation: touchpoint.generation, now, outcome: 'SENT', messageId: `m-${touchpoint.touchpointId}`, ...(decision.message.survey ? { survey: decision.message.survey } : {}) },
    world,
  );
  return decision;
}

describe('survey sends', () => {
  let world: World;
  beforeEach(() => {
    world = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([surveyOnly()]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
  });

  it('sends the survey with its id, records SENT and plans exactly one reminder reminderAfter later', async () => {
    const survey = await plannedSurvey(world);
    expect(survey.dueAt).toBe('2026-11-15T10:00:00.000Z');
    const decision = await sendNow(world, survey, '2026-11-15T10:00:00.000Z');
    expect(decision).toMatchObject({ decision: 'SEND', message: { survey: { surveyId: survey.touchpointId, reminder: false, reminderAfter: 'P3D' } } });
    const reminderId = surveyReminderIdFor(nps.id, survey.touchpointId);
    expect(world.touchpoints.items.get(reminderId)).toMatchObject({
      status: 'PENDING',
      kind: 'survey',
      dueAt: '2026-11-18T10:00:00.000Z',
      context: { parentTouchpointId: survey.touchpointId, orderId: 'o-100' },
    });
    // A repeated RecordSent (a retried task) plans nothing more.
    await recordTouchpointOutcome({ touchpointId: survey.touchpointId, generation: 0, now: '2026-11-15T10:00:05.000Z', outcome: 'SENT', messageId: `m-${survey.touchpointId}`, survey: { surveyId: survey.touchpointId, reminder: false, reminderAfter: 'P3D' } }, world);
    expect([...world.touchpoints.items.values()].filter((t) => t.context.parentTouchpointId === survey.touchpointId)).toHaveLength(1);

    // The reminder answers the same survey and plans no reminder of its own.
    const reminder = world.touchpoints.items.get(reminderId)!;
    expect(await sendNow(world, reminder, '2026-11-18T10:00:00.000Z')).toMatchObject({ decision: 'SEND', message: { survey: { surveyId: survey.touchpointId, reminder: true } } });
    expect([...world.touchpoints.items.values()]).toHaveLength(2);
  });

  it('skips the reminder once the survey is answered', async () => {
    const survey = await plannedSurvey(world);
    await sendNow(world, survey, '2026-11-15T10:00:00.000Z');
    world.answers.items.set(survey.touchpointId, { surveyId: survey.touchpointId, score: 9 });
    const reminder = world.touchpoints.items.get(surveyReminderIdFor(nps.id, survey.touchpointId))!;
    expect(await sendNow(world, reminder, '2026-11-18T10:00:00.000Z')).toEqual({ decision: 'SKIP', reason: 'survey already answered' });
  });

  it('throttles re-surveys: a second order within 90 days gets no survey, reminders do not count, after 90 days it does', async () => {
    const first = await plannedSurvey(world, 'o-1', '2026-11-01T10:00:00Z');
    await sendNow(world, first, '2026-11-15T10:00:00.000Z');
    const second = await plannedSurvey(world, 'o-2', '2026-12-01T10:00:00Z');
    expect(await sendNow(world, second, '2026-12-15T10:00:00.000Z')).toEqual({ decision: 'SKIP', reason: 're-survey throttle (one survey per P90D)' });
    const reminder = world.touchpoints.items.get(surveyReminderIdFor(nps.id, first.touchpointId))!;
    expect((await sendNow(world, reminder, '2026-11-18T10:00:00.000Z')).decision).toBe('SEND');
    const third = await plannedSurvey(world, 'o-3', '2027-02-10T10:00:00Z');
    expect((await sendNow(world, third, '2027-02-24T10:00:00.000Z')).decision).toBe('SEND');
  });

  it('renders the signed scale into the template and tags the email with the survey id', async () => {
    const survey = await plannedSurvey(world);
    const decision = await sendNow(world, survey, '2026-11-15T10:00:00.000Z');
    if (decision.decision !== 'SEND') throw new Error('not sent');
    const request = await renderTouchpointEmail(
      { touchpointId: survey.touchpointId, message: decision.message, now: '2026-11-15T10:00:00.000Z' },
      { campaigns: world.campaigns, signingKey: async () => 'link-secret-0123456789', surveyKeyring: testSurveyKeyring, publicBaseUrl: 'https://links.example.com', senderAddress: 'shop@example.com', configurationSet: 'outreach' },
    );
    const { Html, Text } = request.Content.Simple.Body;
    expect(Html.Data.match(/href="https:\/\/links\.example\.com\/survey\?[^"]+"/g)).toHaveLength(11);
    expect(Text.Data).toContain('How likely are you to recommend our shop to a friend or colleague?');
    expect(Text.Data).toMatch(/^10 \([^)]+\): https:\/\/links\.example\.com\/survey\?s=tp-/m);
    expect(request.EmailTags).toContainEqual({ Name: 'surveyId', Value: survey.touchpointId });
    await expect(
      renderTouchpointEmail({ touchpointId: survey.touchpointId, message: decision.message }, { campaigns: world.campaigns, signingKey: async () => 'x', surveyKeyring: testSurveyKeyring, publicBaseUrl: 'https://l.example', senderAddress: 's@example.com', configurationSet: 'o' }),
    ).rejects.toThrow('now: is missing');
  });
});

describe('the survey link endpoint', () => {
  const surveyId = 'tp-survey-1';
  const touchpoint: Touchpoint = {
    touchpointId: surveyId,
    campaignId: nps.id,
    kind: 'survey',
    customerId: 'c-1',
    orderId: 'o-1',
    dueAt: '2026-11-15T10:00:00.000Z',
    status: 'SENT',
    generation: 0,
    context: { orderId: 'o-1' },
    sentAt: '2026-11-15T10:00:00.000Z',
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-15T10:00:00.000Z',
  };
  const link = (score: number, customerId = 'c-1') =>
    new URL(surveyAnswerUrl(BASE_URL, KEYRING, { surveyId, customerId, score, expiresAt: '2026-12-15T10:00:00.000Z' })).searchParams;

  async function setup() {
    const world = surveyWorld();
    const touchpoints = new InMemoryTouchpoints();
    await touchpoints.create({ ...touchpoint, status: 'PENDING' });
    touchpoints.items.set(surveyId, { ...touchpoint });
    const reminderId = surveyReminderIdFor(nps.id, surveyId);
    await touchpoints.create({ ...touchpoint, touchpointId: reminderId, status: 'PENDING', sentAt: undefined, context: { orderId: 'o-1', parentTouchpointId: surveyId } } as Touchpoint);
    return { ...world, touchpoints, reminderId, deps: { ...world.deps, touchpoints, campaigns: new StaticCampaigns([nps]) } };
  }

  it('GET shows the confirm page and writes nothing, POST records, publishes and cancels the reminder', async () => {
    const { deps, responses, events, touchpoints, reminderId } = await setup();
    const shown = await answerSurvey({ method: 'GET', params: link(4), locale: 'en', now: '2026-11-16T09:00:00.000Z' }, deps);
    expect(shown).toMatchObject({ outcome: 'shown', page: { status: 200 } });
    expect(shown.page.html).toContain('name="comment"');
    expect(responses.items.size).toBe(0);
    expect(touchpoints.items.get(reminderId)?.status).toBe('PENDING');

    const form = link(4);
    form.set('comment', 'Too slow');
    const posted = await answerSurvey({ method: 'POST', params: form, locale: 'en', now: '2026-11-16T09:01:00.000Z' }, deps);
    expect(posted).toMatchObject({ outcome: 'recorded', surveyId, page: { status: 200 } });
    expect(responses.items.get(surveyId)).toMatchObject({ score: 4, category: 'detractor', comment: 'Too slow', campaignId: nps.id, orderId: 'o-1' });
    expect(events.published.map((e) => e.detailType)).toEqual(['Survey Answered']);
    expect(touchpoints.items.get(reminderId)).toMatchObject({ status: 'CANCELLED', reason: 'survey answered' });
  });

  it('a link for another customer, or for a touchpoint that is no survey, is an unknown survey (404) and writes nothing', async () => {
    const { deps, responses } = await setup();
    const other = await answerSurvey({ method: 'POST', params: link(9, 'c-2'), locale: 'de', now: '2026-11-16T09:00:00.000Z' }, deps);
    expect(other).toMatchObject({ outcome: 'unknown-survey', page: { status: 404 } });
    deps.touchpoints.items.set(surveyId, { ...touchpoint, kind: 'check-in' });
    expect((await answerSurvey({ method: 'GET', params: link(9), locale: 'en', now: '2026-11-16T09:00:00.000Z' }, deps)).outcome).toBe('unknown-survey');
    expect(responses.items.size).toBe(0);
  });

  it('a malformed or expired link gets the friendly page (400 / 410)', async () => {
    const { deps } = await setup();
    const broken = link(9);
    broken.set('t', 'k2.not-a-signature');
    expect(await answerSurvey({ method: 'POST', params: broken, locale: 'en', now: '2026-11-16T09:00:00.000Z' }, deps)).toMatchObject({ outcome: 'invalid-link', page: { status: 400 } });
    expect(await answerSurvey({ method: 'GET', params: link(9), locale: 'en', now: '2026-12-16T09:00:00.000Z' }, deps)).toMatchObject({ outcome: 'expired', page: { status: 410 } });
  });
});

describe('Survey Answered events', () => {
  const answered = (detail: Record<string, unknown>) =>
    parseCommerceEvent({
      version: '0',
      id: `evt-${String(detail.surveyId)}-${String(detail.revision ?? 0)}`,
      'detail-type': 'Survey Answered',
      source: 'outreach.surveys',
      account: '123456789012',
      time: '2026-11-16T09:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        surveyId: 'tp-s1',
        campaignId: nps.id,
        customerId: 'c-1',
        orderId: 'o-100',
        kind: 'nps',
        score: 10,
        category: 'promoter',
        revision: 0,
        hasComment: false,
        firstAnsweredAt: '2026-11-16T09:00:00.000Z',
        answeredAt: '2026-11-16T09:00:00.000Z',
        ...detail,
      },
    });

  let world: World;
  beforeEach(async () => {
    world = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([checkIn, review]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), world);
  });

  it("records the answer as the customer's latest NPS and plans the promoter follow-up once", async () => {
    const result = await ingestCommerceEvent(answered({}), world);
    expect(result.action).toBe('survey-answer-applied');
    const followUp = touchpointIdFor(review.id, 'survey:tp-s1');
    expect(result.touchpointsCreated).toEqual([followUp]);
    // A day later, 09:00 Berlin is outside the quiet hours: unchanged.
    expect(world.touchpoints.items.get(followUp)).toMatchObject({ kind: 'follow-up', dueAt: '2026-11-17T09:00:00.000Z', context: { parentTouchpointId: 'tp-s1' } });
    expect((await world.customers.get('c-1'))?.latestSurvey?.nps).toEqual({ score: 10, category: 'promoter', surveyId: 'tp-s1', answeredAt: '2026-11-16T09:00:00.000Z' });
    expect((await ingestCommerceEvent(answered({ score: 9, revision: 1, answeredAt: '2026-11-16T09:05:00.000Z' }), world)).touchpointsCreated).toEqual([]);
  });

  it('plans nothing for a detractor, and an older answer does not replace a newer one', async () => {
    await ingestCommerceEvent(answered({ surveyId: 'tp-new', score: 3, category: 'detractor', answeredAt: '2026-11-20T09:00:00.000Z' }), world);
    const late = await ingestCommerceEvent(answered({ surveyId: 'tp-old', score: 10, category: 'promoter', answeredAt: '2026-11-10T09:00:00.000Z' }), world);
    expect((await world.customers.get('c-1'))?.latestSurvey?.nps).toMatchObject({ surveyId: 'tp-new', category: 'detractor' });
    expect(late.touchpointsCreated).toHaveLength(1); // the promoter answer still earns its follow-up
  });

  it('lastNps filters purchases by the latest answer; none matches customers who never answered', async () => {
    const winBack: Campaign = { ...checkIn, id: 'detractor-win-back', trigger: { event: 'Purchase Completed', lastNps: ['detractor'] } };
    const firstTimers: Campaign = { ...checkIn, id: 'never-asked', trigger: { event: 'Purchase Completed', lastNps: ['none'] } };
    world.campaigns = new StaticCampaigns([winBack, firstTimers]);
    const before = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ orderId: 'o-2' })), world);
    expect(before.touchpointsCreated.map((id) => world.touchpoints.items.get(id)?.campaignId)).toEqual(['never-asked']);
    await ingestCommerceEvent(answered({ score: 2, category: 'detractor' }), world);
    const after = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent({ orderId: 'o-3' })), world);
    expect(after.touchpointsCreated.map((id) => world.touchpoints.items.get(id)?.campaignId)).toEqual(['detractor-win-back']);
  });
});

describe('stopOn: reply', () => {
  it("cancels the customer's pending emails of campaigns that stop on a reply, and not the follow-up the answer starts", async () => {
    const nudge: Campaign = { ...checkIn, id: 'feedback-nudge', delay: 'P20D', stopOn: ['reply'] };
    const world = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([checkIn, nudge, review]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
    const planned = await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), world);
    const nudgeId = planned.touchpointsCreated.find((id) => world.touchpoints.items.get(id)?.campaignId === 'feedback-nudge')!;
    const checkInId = planned.touchpointsCreated.find((id) => world.touchpoints.items.get(id)?.campaignId === checkIn.id)!;
    const result = await ingestCommerceEvent(
      parseCommerceEvent({
        version: '0', id: 'evt-a', 'detail-type': 'Survey Answered', source: 'outreach.surveys', account: '1', time: '2026-11-21T09:00:00Z', region: 'us-east-1', resources: [],
        detail: { surveyId: 'tp-s1', campaignId: nps.id, customerId: 'c-1', kind: 'nps', score: 10, category: 'promoter', revision: 0, hasComment: false, firstAnsweredAt: '2026-11-21T09:00:00.000Z', answeredAt: '2026-11-21T09:00:00.000Z' },
      }),
      world,
    );
    expect(result.touchpointsCancelled).toEqual([nudgeId]);
    expect(world.touchpoints.items.get(nudgeId)).toMatchObject({ status: 'CANCELLED', reason: 'customer answered a survey' });
    expect(world.touchpoints.items.get(checkInId)?.status).toBe('PENDING');
    expect(world.touchpoints.items.get(result.touchpointsCreated[0]!)?.status).toBe('PENDING');
  });
});

describe('review fixes', () => {
  it('checks the signature before looking the survey up: a forged link gets 400 whether or not the survey exists', async () => {
    const world = surveyWorld();
    const touchpoints = new InMemoryTouchpoints();
    const forged = { current: 'k2', secrets: { k2: 'an-attacker-key-0123456789abcdefghijklmnop' } };
    const params = new URL(surveyAnswerUrl(BASE_URL, forged, { surveyId: 'tp-guess', customerId: 'c-1', score: 9, expiresAt: '2026-12-15T10:00:00.000Z' })).searchParams;
    const result = await answerSurvey(
      { method: 'GET', params, locale: 'en', now: '2026-11-16T09:00:00.000Z' },
      { ...world.deps, touchpoints, campaigns: new StaticCampaigns([nps]) },
    );
    expect(result).toMatchObject({ outcome: 'invalid-link', page: { status: 400 } });
  });

  it('after the edit window, the same score shows the closed page instead of a form that would be refused', async () => {
    const world = surveyWorld();
    const touchpoints = new InMemoryTouchpoints();
    const touchpoint: Touchpoint = {
      touchpointId: 'tp-s9', campaignId: nps.id, kind: 'survey', customerId: 'c-1', dueAt: '2026-11-15T10:00:00.000Z', status: 'SENT',
      generation: 0, context: {}, sentAt: '2026-11-15T10:00:00.000Z', createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-15T10:00:00.000Z',
    };
    touchpoints.items.set(touchpoint.touchpointId, touchpoint);
    const deps = { ...world.deps, touchpoints, campaigns: new StaticCampaigns([nps]) };
    const params = new URL(surveyAnswerUrl(BASE_URL, KEYRING, { surveyId: 'tp-s9', customerId: 'c-1', score: 8, expiresAt: '2026-12-15T10:00:00.000Z' })).searchParams;
    expect((await answerSurvey({ method: 'POST', params, locale: 'en', now: '2026-11-16T09:00:00.000Z' }, deps)).outcome).toBe('recorded');
    const later = await answerSurvey({ method: 'GET', params, locale: 'en', now: '2026-11-30T09:00:00.000Z' }, deps);
    expect(later).toMatchObject({ outcome: 'edit-window-closed' });
    expect(later.page.html).not.toContain('<form');
  });

  const answeredEvent = (detail: Record<string, unknown>) =>
    parseCommerceEvent({
      version: '0', id: `evt-${String(detail.revision ?? 0)}`, 'detail-type': 'Survey Answered', source: 'outreach.surveys', account: '1', time: '2026-11-21T09:00:00Z', region: 'us-east-1', resources: [],
      detail: { surveyId: 'tp-s1', campaignId: nps.id, customerId: 'c-1', kind: 'nps', score: 10, category: 'promoter', revision: 0, hasComment: false, firstAnsweredAt: '2026-11-21T09:00:00.000Z', answeredAt: '2026-11-21T09:00:00.000Z', ...detail },
    });

  it("withdraws a promoter's follow-up when the answer changes to a detractor's", async () => {
    const world = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([review]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), world);
    const [followUp] = (await ingestCommerceEvent(answeredEvent({}), world)).touchpointsCreated;
    const changed = await ingestCommerceEvent(answeredEvent({ score: 2, category: 'detractor', revision: 1, answeredAt: '2026-11-21T09:05:00.000Z' }), world);
    expect(changed.touchpointsCancelled).toEqual([followUp]);
    expect(world.touchpoints.items.get(followUp!)).toMatchObject({ status: 'CANCELLED', reason: 'the survey answer changed' });
  });

  it('a follow-up that stops on reply is not cancelled by a redelivered or edited answer to the survey that started it', async () => {
    const stopping: Campaign = { ...review, stopOn: ['reply'] };
    const world = { customers: new InMemoryCustomers(), touchpoints: new InMemoryTouchpoints(), campaigns: new StaticCampaigns([stopping]), answers: new InMemoryAnswers(), contracts: new StaticContracts() };
    await ingestCommerceEvent(parseCommerceEvent(purchaseEvent()), world);
    const [followUp] = (await ingestCommerceEvent(answeredEvent({}), world)).touchpointsCreated;
    const again = await ingestCommerceEvent(answeredEvent({ revision: 1, hasComment: true, answeredAt: '2026-11-21T09:05:00.000Z' }), world);
    expect(again.touchpointsCancelled).toEqual([]);
    expect(world.touchpoints.items.get(followUp!)?.status).toBe('PENDING');
  });
});
