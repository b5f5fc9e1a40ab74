import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCampaignDirectory, parseCampaignText } from '../../../core/campaigns/load.ts';

const valid = `id: spring-check-in
kind: check-in
trigger:
  event: Purchase Completed
delay: P3D
template:
  defaultLocale: en
  locales:
    en:
      subject: Hi {{customer.firstName}}
      html: <p>Hi</p>
      text: Hi
`;

describe('campaign rules', () => {
  it('loads the checked-in campaigns with defaults applied', () => {
    const campaigns = loadCampaignDirectory('campaigns');
    expect(campaigns.map((c) => c.id)).toContain('post-purchase-check-in');
    const parsed = parseCampaignText(valid, 'x.yaml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.campaign).toMatchObject({ enabled: true, requireMarketingConsent: true, stopOn: ['refund', 'cancellation'] });
  });

  it('reports every problem with file, line and field path', () => {
    const text = valid
      .replace('delay: P3D', 'delay: 3 days')
      .replace('kind: check-in', 'kind: checkin\ncolour: blue')
      .replace('defaultLocale: en', 'defaultLocale: fr')
      .replace('subject: Hi {{customer.firstName}}', 'subject: Hi {{#if}}');
    expect(parseCampaignText(text, 'campaigns/spring.yaml').problems).toEqual([
      'campaigns/spring.yaml:2 kind: "checkin" is not a campaign kind (expected one of: check-in, survey, follow-up, renewal-reminder)',
      'campaigns/spring.yaml:3 colour: is not a known field (expected one of: id, kind, description, enabled, trigger, delay, survey, quietHours, sendWindow, frequencyCap, holdout, activeFrom, activeUntil, requireMarketingConsent, stopOn, template, variants)',
      'campaigns/spring.yaml:6 delay: "3 days" is not an ISO-8601 duration (try P3D)',
      'campaigns/spring.yaml:8 template.defaultLocale: "fr" has no entry under template.locales (have: en)',
      expect.stringMatching(/^campaigns\/spring\.yaml:11 template\.locales\.en\.subject: is not a valid template: Parse error on line 1: Expecting .+/),
    ]);
  });

  it('says which required field is missing', () => {
    expect(parseCampaignText(valid.replace('delay: P3D\n', ''), 'x.yaml').problems).toEqual(['x.yaml:1 delay: is missing (how long after the trigger, e.g. P3D)']);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(parseCampaignText('id: x\nkind: check-in\n\tdelay: P3D\n', 'c.yaml').problems).toEqual(['c.yaml:3 Tabs are not allowed as indentation']);
  });

  it('rejects a directory with a bad file and a duplicate id, listing all problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
    writeFileSync(join(dir, 'a.yaml'), valid);
    writeFileSync(join(dir, 'b.yaml'), valid);
    writeFileSync(join(dir, 'c.yaml'), valid.replace('delay: P3D', 'delay: soon'));
    expect(() => loadCampaignDirectory(dir, dir)).toThrow(
      'campaign rules are invalid:\n  b.yaml:1 id: "spring-check-in" is already defined in a.yaml\n  c.yaml:5 delay: "soon" is not an ISO-8601 duration (try P3D)',
    );
  });
});
