import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { OutreachData, type OutreachDataProps } from './constructs/outreach-data.ts';

export interface OutreachStatefulStackProps extends StackProps {
  /** @default - retained, deletion-protected tables; a bus named 'outreach' */
  readonly data?: OutreachDataProps;
}

/** What must survive: the tables and the event bus. Termination-protected unless told otherwise. */
export class OutreachStatefulStack extends Stack {
  readonly data: OutreachData;

  constructor(scope: Construct, id: string, props: OutreachStatefulStackProps = {}) {
    super(scope, id, { ...props, terminationProtection: props.terminationProtection ?? true });
    this.data = new OutreachData(this, 'Data', props.data);
  }
}
