import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InvalidCampaignError } from '../core/errors.ts';
import { InvalidTargetsError } from '../core/metrics/targets.ts';
import { OutreachConfigError, readOutreachConfig } from '../lib/config.ts';
import { addOutreachStacks } from '../lib/outreach-stacks.ts';

const app = new App();
try {
  addOutreachStacks(app, readOutreachConfig(app));
} catch (error) {
  // A settings, campaign-rule or targets-file mistake is a person's to fix: show the message, not a stack trace.
  if (!(error instanceof OutreachConfigError || error instanceof InvalidCampaignError || error instanceof InvalidTargetsError)) throw error;
  console.error(error.message);
  process.exit(1);
}
// cdk-nag v3 is a policy validation plugin: any unacknowledged AwsSolutions finding fails synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
