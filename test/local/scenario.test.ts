/**
 * The sample scenario (`npm start`, `npm start -- --scenario`) on the embedded stack with the shipped campaigns, from a
 * fixed start: a Saturday morning (UTC) in March, so the 30-day renewal reminders fall on a Sunday and wait for the
 * send window, and the contracts run across the European DST change. Every check the scenario prints must hold.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSampleScenario, sampleScenarioTiming, scenarioSpanMs, type ScenarioOutcome, type ScenarioTiming } from '../../local/scenario.ts';
import { PROJECT_ROOT, startLocalStack, type LocalStack } from '../../local/stack.ts';

const START = '2031-03-08T10:00:00.000Z'; // a Saturday
let stack: LocalStack;
let timing: ScenarioTiming;
let outcome: ScenarioOutcome;
const lines: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  timing = sampleScenarioTiming(join(PROJECT_ROOT, 'campaigns'));
  stack = await startLocalStack({ portBase: 0, speed: 0, startAt: START, log: false });
  outcome = await runSampleScenario(stack, timing, { log: (line) => lines.push(line) });
});
afterAll(() => stack?.stop());

describe('the sample scenario', () => {
  it('reads the survey, review and renewal rules from campaigns/', () => {
    expect(timing).toMatchObject({
      checkInDelay: 'P3D',
      survey: { delay: 'P14D', reminderAfter: 'P3D', review: { delay: 'P1D' } },
      renewal: { offsetsDays: [60, 30, 7], sendAt: '09:00' },
    });
  });

  it('passes every check, and moves the clock by exactly its span', () => {
    expect(outcome.expectations.filter((e) => !e.ok)).toEqual([]);
    expect(outcome.ok).toBe(true);
    expect(outcome.startedAt).toBe(START);
    expect(Date.parse(outcome.endedAt) - Date.parse(outcome.startedAt)).toBe(scenarioSpanMs(timing));
    expect(lines.filter((l) => l.startsWith('✗'))).toEqual([]);
  });

  it('covers check-ins, surveys and renewal reminders', () => {
    const checks = outcome.expectations.map((e) => e.what);
    for (const expected of [
      'one check-in email to Ada Lovelace',
      'following the link alone (what a mail scanner does) shows a confirm form and records nothing',
      "Ada Lovelace's answer is recorded: 10 (promoter) with her comment",
      "María García's answer is recorded: 3 (detractor) with her comment",
      "the detractor alert for María García's answer reached cx-team@shop.example",
      'a "Detractor Alert" event was published for it',
      "Ada Lovelace's review ask arrived 1 day after her answer, and only to her",
      'Kenji Tanaka did not answer: exactly one reminder, 3 days after the survey, for the same survey',
      // Sunday 2031-03-09: Monday 08:00 local, when the Monday–Saturday window opens.
      "Ada Lovelace's 30-day renewal reminder arrived when the send window opened",
      "María García's 30-day renewal reminder arrived when the send window opened",
      "Kenji Tanaka's 7-day renewal reminder arrived at 09:00 local time",
      "María García's 7-day renewal reminder arrived at 09:00 local time",
      'no renewal reminder to Ada Lovelace after she renewed',
      "Kenji Tanaka's contract ended unrenewed on 2031-03-18: recorded as churned",
      'in all, nothing for Olivia Smith and only the first check-in for Lars Schmidt',
      "the dashboard's figures (GET /metrics) equal a count of the raw answers, surveys, contracts and orders",
    ]) {
      expect(checks).toContain(expected);
    }
    const detail = (prefix: string) => outcome.expectations.find((e) => e.what.startsWith(prefix))?.detail;
    expect(detail("Ada Lovelace's 30-day")).toContain('Mon 2031-03-10 08:00 Europe/London');
    expect(detail("María García's 30-day")).toContain('Mon 2031-03-10 08:00 America/Mexico_City');
    // Ada renewed on day 8: her 7-day reminder (Tuesday 2031-04-01, after the change to summer time) never goes out.
    expect(detail('no renewal reminder to Ada Lovelace')).toBe('without the renewal: 7-day on Tue 2031-04-01 09:00 Europe/London');
    // Ada 10 and María 3 of the four surveys; Ada renewed, Kenji churned; Lars bought twice of six customers.
    expect(detail("the dashboard's figures")).toBe(
      'NPS 0.0 (2 answers), response rate 50.0 % of 4 surveys, renewal rate 50.0 % of 2 terms ended, repeat purchase 16.7 % of 6 customers',
    );
  });

  it('leaves the mailbox a newcomer reads: check-ins, surveys, reminders, a review ask, an alert, renewal reminders', async () => {
    const mail = await stack.mailbox();
    // 5 check-ins, 4 surveys, 2 survey reminders, 1 review ask, 1 detractor alert, 4 renewal reminders.
    expect(mail).toHaveLength(17);
    expect(mail.filter((m) => m.to.includes('lars@example.de'))).toHaveLength(1);
    expect(mail.filter((m) => m.to.includes('olivia@example.com'))).toHaveLength(0);
  });
});
