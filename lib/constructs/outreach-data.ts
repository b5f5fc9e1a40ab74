import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { TABLES } from '../../core/topology.ts';

export type TableKey = keyof typeof TABLES;
export type OutreachTables = Readonly<Record<TableKey, ITable>>;

/** What the runtime needs from the data layer; passed between stacks as typed props. */
export interface OutreachDataRefs {
  readonly tables: OutreachTables;
  readonly eventBus: IEventBus;
}

export interface OutreachDataProps {
  /**
   * What happens to the tables when they leave the stack. Use DESTROY only for throwaway environments.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection. Cannot be combined with `removalPolicy: DESTROY`.
   * @default true, or false when `removalPolicy` is DESTROY
   */
  readonly deletionProtection?: boolean;
  /**
   * Name of the EventBridge bus the commerce system publishes to: part of the integration contract, hence fixed.
   * @default 'outreach'
   */
  readonly eventBusName?: string;
}

interface IndexSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly include?: readonly string[];
}

// Every key attribute is a string, dueShard included: adapters/dynamodb-touchpoints.ts writes String(shardOf(...)).
const attribute = (name: string) => ({ name, type: AttributeType.STRING });

const isIndexSpec = (value: unknown): value is IndexSpec =>
  typeof value === 'object' && value !== null && typeof (value as IndexSpec).name === 'string' && typeof (value as IndexSpec).partitionKey === 'string';

/** Every index spec of a table in TABLES (the GSIs), in declaration order. */
export function indexSpecsOf(key: TableKey): IndexSpec[] {
  return Object.values(TABLES[key]).filter(isIndexSpec);
}

export const indexNamesOf = (key: TableKey): string[] => indexSpecsOf(key).map((index) => index.name);

/**
 * The stateful part: the tables of TABLES in core/topology.ts (on-demand, point-in-time recovery, retained,
 * deletion-protected) and the event bus the commerce system publishes to.
 */
export class OutreachData extends Construct implements OutreachDataRefs {
  readonly customers: Table;
  readonly touchpoints: Table;
  readonly campaigns: Table;
  readonly tables: Readonly<Record<TableKey, Table>>;
  readonly eventBus: EventBus;

  constructor(scope: Construct, id: string, props: OutreachDataProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy === RemovalPolicy.DESTROY && props.deletionProtection === true) {
      throw new Error(
        `OutreachData ${this.node.path}: removalPolicy DESTROY conflicts with deletionProtection: true (CloudFormation could never delete the tables). Drop one of the two.`,
      );
    }
    const deletionProtection = props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY;

    const tableOf = (key: TableKey) => {
      const spec: { partitionKey: string; sortKey?: string; ttlAttribute?: string } = TABLES[key];
      const table = new Table(this, `${key[0]!.toUpperCase()}${key.slice(1)}Table`, {
        partitionKey: attribute(spec.partitionKey),
        ...(spec.sortKey ? { sortKey: attribute(spec.sortKey) } : {}),
        ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        deletionProtection,
        removalPolicy,
      });
      for (const index of indexSpecsOf(key)) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: attribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
          // `include: []`: the keys only (DynamoDB refuses INCLUDE with no attribute).
          ...(index.include === undefined
            ? { projectionType: ProjectionType.ALL }
            : index.include.length === 0
              ? { projectionType: ProjectionType.KEYS_ONLY }
              : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }),
        });
      }
      return table;
    };

    this.tables = Object.fromEntries((Object.keys(TABLES) as TableKey[]).map((key) => [key, tableOf(key)])) as Record<TableKey, Table>;
    this.customers = this.tables.customers;
    this.touchpoints = this.tables.touchpoints;
    this.campaigns = this.tables.campaigns;

    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: props.eventBusName ?? 'outreach' });
  }
}
