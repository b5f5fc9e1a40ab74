import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on one construct (and its children). Every call site must be listed, with the same
 * reason, in docs/cdk-nag.md; test/infra/cdk-nag.test.ts checks that.
 */
export function acknowledgeNag(scope: IConstruct, id: `AwsSolutions-${string}`, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
