import { describe, expect, it } from 'vitest';
import { InvalidLinkTokenError } from '../../../core/errors.ts';
import { signLink, unsubscribeUrl, verifyLink } from '../../../core/links.ts';
import { renderTouchpointEmail } from '../../../core/use-cases/render-touchpoint-email.ts';
import { StaticCampaigns, checkInCampaign, testSurveyKeyring } from '../fakes.ts';

const SECRET = 'test-secret-0123456789';
const deps = {
  campaigns: new StaticCampaigns([checkInCampaign()]),
  signingKey: async () => SECRET,
  surveyKeyring: testSurveyKeyring,
  publicBaseUrl: 'https://links.example.com/prod',
  senderAddress: 'Shop <outreach@example.com>',
  configurationSet: 'outreach',
};
const message = {
  campaignId: 'post-purchase-check-in',
  customerId: 'c-1',
  email: 'ada@example.com',
  name: 'Ada <script>Lovelace',
  locale: 'de-AT',
  context: { orderId: 'o-1', items: [{ sku: 'T', name: 'Teapot & Cups', quantity: 2, unitPrice: 15 }] },
};

describe('renderTouchpointEmail', () => {
  it('builds the SendEmail request with one-click unsubscribe headers, tags of ids only, and the locale fallback', async () => {
    const request = await renderTouchpointEmail({ touchpointId: 'tp-1', message }, deps);

    const url = unsubscribeUrl(deps.publicBaseUrl, SECRET, 'c-1');
    expect(url).toBe(`https://links.example.com/prod/unsubscribe?c=c-1&t=${encodeURIComponent(signLink(SECRET, 'unsubscribe', 'c-1'))}`);
    expect(request).toMatchObject({
      FromEmailAddress: 'Shop <outreach@example.com>',
      Destination: { ToAddresses: ['ada@example.com'] },
      ConfigurationSetName: 'outreach',
      EmailTags: [
        { Name: 'touchpointId', Value: 'tp-1' },
        { Name: 'campaignId', Value: 'post-purchase-check-in' },
        { Name: 'customerId', Value: 'c-1' },
      ],
    });
    const simple = request.Content.Simple;
    expect(simple.Headers).toEqual([
      { Name: 'List-Unsubscribe', Value: `<${url}>` },
      { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
    ]);
    // de-AT falls back to de; the subject is plain text, the HTML escapes personal data.
    expect(simple.Subject.Data).toBe('Ada, wie gefällt Ihnen Teapot & Cups?');
    expect(simple.Body.Html.Data).toContain('<li>2 × Teapot &amp; Cups</li>');
    expect(simple.Body.Html.Data).not.toContain('<script>');
    expect(simple.Body.Text.Data).toContain(`Abmelden: ${url}`);
  });

  it('falls back to the default locale for an unknown language', async () => {
    const request = await renderTouchpointEmail({ touchpointId: 'tp-1', message: { ...message, locale: 'fr' } }, deps);
    expect(request.Content.Simple.Subject.Data).toBe('Ada, how is your Teapot & Cups?');
  });

  it('fails with CampaignNotFoundError for an unknown campaign', async () => {
    await expect(
      renderTouchpointEmail({ touchpointId: 'tp-1', message: { ...message, campaignId: 'gone' } }, deps),
    ).rejects.toMatchObject({ name: 'CampaignNotFoundError' });
  });
});

describe('signed links', () => {
  const token = signLink(SECRET, 'unsubscribe', 'c-1');

  it('verifies its own token', () => {
    expect(() => verifyLink(SECRET, 'unsubscribe', 'c-1', token)).not.toThrow();
  });

  it.each([
    ['another customer', SECRET, 'c-2', token],
    ['another secret', 'other-secret', 'c-1', token],
    ['a tampered signature', SECRET, 'c-1', `${token.slice(0, -2)}AA`],
    ['a truncated signature', SECRET, 'c-1', token.slice(0, 10)],
    ['an unknown key version', SECRET, 'c-1', token.replace(/^v1\./, 'v9.')],
    ['no signature', SECRET, 'c-1', 'v1'],
  ])('rejects %s', (_, secret, customer, given) => {
    expect(() => verifyLink(secret, 'unsubscribe', customer, given)).toThrow(InvalidLinkTokenError);
  });
});
