import { Construct } from 'constructs';
import { OutreachData, type OutreachDataProps } from './constructs/outreach-data.ts';
import { OutreachRuntime, type OutreachRuntimeProps } from './constructs/outreach-runtime.ts';

export interface OutreachAutomationProps extends Omit<OutreachRuntimeProps, 'data'> {
  /**
   * Settings of the tables and the event bus.
   * @default - retained, deletion-protected tables; a bus named 'outreach'
   */
  readonly data?: OutreachDataProps;
}

/**
 * Proactive outreach in one construct, for use inside any CDK app: the data (tables, event bus) and the runtime
 * (functions, workflows, triggers, HTTP API, SES, alarms) in one scope. The project's own app deploys the same two
 * building blocks as two stacks instead, so that the stateless one can be replaced freely.
 */
export class OutreachAutomation extends Construct {
  readonly data: OutreachData;
  readonly runtime: OutreachRuntime;
  readonly tables: OutreachData['tables'];
  readonly eventBus: OutreachData['eventBus'];
  readonly functions: OutreachRuntime['functions'];
  readonly stateMachines: OutreachRuntime['stateMachines'];
  readonly httpApi: OutreachRuntime['httpApi'];
  readonly publicBaseUrl: string;

  constructor(scope: Construct, id: string, props: OutreachAutomationProps) {
    super(scope, id);
    const { data: dataProps, ...runtimeProps } = props;
    this.data = new OutreachData(this, 'Data', dataProps);
    this.runtime = new OutreachRuntime(this, 'Runtime', { ...runtimeProps, data: this.data });
    this.tables = this.data.tables;
    this.eventBus = this.data.eventBus;
    this.functions = this.runtime.functions;
    this.stateMachines = this.runtime.stateMachines;
    this.httpApi = this.runtime.httpApi;
    this.publicBaseUrl = this.runtime.publicBaseUrl;
  }
}
