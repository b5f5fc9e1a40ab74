import { Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { ConfigurationSet, ConfigurationSetTlsPolicy, EmailIdentity, EmailSendingEvent, EventDestination, Identity, SuppressionReasons } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export interface OutreachSendingProps {
  /** The From address of every email. */
  readonly senderAddress: string;
  /**
   * A domain or address to create (and verify) an SES identity for. It must cover `senderAddress`: the address
   * itself, its domain, or a parent domain.
   * @default - no identity is created; verify the sender in SES yourself
   */
  readonly sesIdentity?: string;
  /**
   * Verified recipient addresses that may receive mail while the SES account is still in the sandbox, where SES also
   * authorizes each recipient identity against the sender's IAM policy.
   * @default - none (production access)
   */
  readonly sandboxRecipients?: readonly string[];
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/**
 * How email leaves: an SES v2 configuration set (TLS required, reputation metrics, account-level suppression of
 * bounces and complaints), optionally the sending identity, and the one IAM grant that allows sending.
 */
export class OutreachSending extends Construct {
  readonly senderAddress: string;
  readonly configurationSet: ConfigurationSet;
  readonly emailIdentity?: EmailIdentity;
  /** The SES identities SendEmail is authorized on: the sender address, its domain, and `sesIdentity` if set. */
  readonly identityArns: readonly string[];
  readonly configurationSetArn: string;

  constructor(scope: Construct, id: string, props: OutreachSendingProps) {
    super(scope, id);
    this.senderAddress = props.senderAddress;
    const senderDomain = domainOf(props.senderAddress);
    const identity = props.sesIdentity?.toLowerCase();
    if (identity && identity !== props.senderAddress.toLowerCase() && identity !== senderDomain && !senderDomain.endsWith(`.${identity}`)) {
      throw new Error(
        `${this.node.path}: sesIdentity "${props.sesIdentity}" does not cover senderAddress "${props.senderAddress}". Use the address itself or its domain, e.g. sesIdentity "${senderDomain}".`,
      );
    }

    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    // Bounces and complaints come back tagged with the customer id; the ingest function suppresses the address.
    // Send events come back tagged with the touchpoint id and generation: they settle a send whose answer was lost.
    this.configurationSet.addEventDestination('Feedback', {
      destination: EventDestination.eventBus(EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: [EmailSendingEvent.SEND, EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT],
    });
    if (identity) {
      this.emailIdentity = new EmailIdentity(this, 'Identity', {
        identity: identity.includes('@') ? Identity.email(identity) : Identity.domain(identity),
        configurationSet: this.configurationSet,
      });
    }

    const stack = Stack.of(this);
    const identityNames = new Set([props.senderAddress.toLowerCase(), senderDomain, ...(identity ? [identity] : []), ...(props.sandboxRecipients ?? [])]);
    this.identityArns = [...identityNames].map((name) => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name }));
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /** ses:GetAccount: the account's sending quota and maximum send rate (the action has no resource-level permission). */
  grantReadSendQuota(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['ses:GetAccount'], resources: ['*'] }));
  }

  /** ses:SendEmail from `senderAddress` only, on the sender identities and the configuration set only. */
  grantSendEmail(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [...this.identityArns, this.configurationSetArn],
        conditions: { StringEquals: { 'ses:FromAddress': this.senderAddress } },
      }),
    );
  }
}
