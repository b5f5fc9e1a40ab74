/**
 * Domain errors. Each sets `this.name` explicitly so the name survives bundling and minification: Step Functions
 * `ErrorEquals` and the local engine match on it.
 */
export class InvalidEventError extends Error {
  /** Where the problems are, as `path: message` lines. */
  readonly issues: string[];
  constructor(what: string, issues: string[]) {
    super(`${what} is invalid: ${issues.join('; ')}`);
    this.name = 'InvalidEventError';
    this.issues = issues;
  }
}

export class InvalidInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export class TouchpointNotFoundError extends Error {
  constructor(touchpointId: string) {
    super(`touchpoint ${touchpointId} does not exist`);
    this.name = 'TouchpointNotFoundError';
  }
}

export class CampaignNotFoundError extends Error {
  constructor(campaignId: string) {
    super(`campaign ${campaignId} is not configured`);
    this.name = 'CampaignNotFoundError';
  }
}

export class InvalidCampaignError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`campaign rules are invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidCampaignError';
    this.problems = problems;
  }
}

export class InvalidLinkTokenError extends Error {
  constructor(reason: string) {
    super(`link token rejected: ${reason}`);
    this.name = 'InvalidLinkTokenError';
  }
}

/** Turns zod issues into `path: message` lines, the form every validation error in the product uses. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, prefix = ''): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
      .filter(Boolean)
      .join('.')
      .replace(/\.\[/g, '[');
    return `${path || '(root)'}: ${issue.message}`;
  });
}
