/** The small HTML pages of the unsubscribe endpoint. No personal data: the page never shows the address. */
const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#222;color:#fff;cursor:pointer}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

export function confirmPage(actionUrl: string): string {
  return page(
    'Unsubscribe from these emails?',
    `<p>You will no longer receive check-ins, reminders or surveys from us by email.</p>
<form method="post" action="${escape(actionUrl)}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>`,
  );
}

export function donePage(): string {
  return page('You are unsubscribed', '<p>We will not email you again. You can close this page.</p>');
}

export function invalidLinkPage(): string {
  return page(
    'This link does not work',
    '<p>The unsubscribe link is incomplete or was changed. Please use the link from the latest email, or reply to it and we will unsubscribe you.</p>',
  );
}
