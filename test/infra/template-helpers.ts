import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const logicalIdOf = (construct: IConstruct): string => {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return (element.stack as Stack).getLogicalId(element);
};

export const actionsOf = (statement: Statement): string[] => [statement.Action].flat();
export const resourcesOf = (statement: Statement): unknown[] => [statement.Resource].flat();

/**
 * A CloudFormation value as one readable string: `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},…]]}` becomes
 * `arn:${AWS::Partition}:…`, so assertions can read ARNs as text.
 */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const intrinsic = value as Record<string, unknown>;
  if (Array.isArray(intrinsic['Fn::Join'])) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(separator);
  }
  if (typeof intrinsic.Ref === 'string') return `\${${intrinsic.Ref}}`;
  if (Array.isArray(intrinsic['Fn::GetAtt'])) return `\${${(intrinsic['Fn::GetAtt'] as string[]).join('.')}}`;
  if (intrinsic['Fn::ImportValue'] !== undefined) return `\${Import:${flat(intrinsic['Fn::ImportValue'])}}`;
  return JSON.stringify(value);
}

/** Every statement of the IAM policies attached to a role (by the role's logical id). */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((role) => flat(role) === `\${${roleLogicalId}}`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export function allStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/**
 * The CDK AwsCustomResource provider that seeds the campaign rules at deploy time (one per stack, its logical id
 * derived from a fixed UUID). It is not one of the product's functions.
 */
export const isCampaignSeedProvider = (logicalId: string): boolean => logicalId.startsWith('AWS679f53fac002430cb0da5b7982bd2287');

/** The product's own functions in a template, without the campaign-seeding provider. */
export function productFunctions<T>(resources: Record<string, T>): T[] {
  return Object.entries(resources)
    .filter(([id]) => !isCampaignSeedProvider(id))
    .map(([, resource]) => resource);
}
