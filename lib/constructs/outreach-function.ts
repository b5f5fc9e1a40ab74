import { lambdaTracing, type TracingMode } from './observability.ts';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ENV, type FunctionName } from '../../core/topology.ts';
import { acknowledgeNag } from '../nag.ts';
import { DEFAULT_FUNCTIONS_DIR, PROJECT_ROOT } from '../paths.ts';

export type EnvName = (typeof ENV)[keyof typeof ENV];
export type TableAccess = 'read' | 'readWrite';

/** The newest Node.js runtime this aws-cdk-lib knows, so cdk-nag's AwsSolutions-L1 holds without a suppression. */
export const OUTREACH_RUNTIME = Runtime.NODEJS_24_X;
const ESBUILD_TARGET = 'node24';

// Explicit lists instead of table.grant*Data(): those add `<table>/index/*`; we grant the named indexes only.
const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export interface OutreachFunctionProps {
  /** The handler: `<functionsDir>/<name>/handler.ts`, exporting `handler`. */
  readonly name: FunctionName;
  /**
   * Folder holding one sub-folder per function.
   * @default the project's `functions/` folder
   */
  readonly functionsDir?: string;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * X-Ray tracing: 'sampled' (Tracing.ACTIVE, under X-Ray's sampling rules; PASS_THROUGH with tracedUpstreamOnly) or 'off'.
   * @default 'sampled'
   */
  readonly tracing?: TracingMode;
  /**
   * Traced only inside a trace the caller sampled (Tracing.PASS_THROUGH), never as a trace of its own.
   * @default false
   */
  readonly tracedUpstreamOnly?: boolean;
  /** Powertools log level. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly description?: string;
  /**
   * Files the handler reads at runtime, copied next to its bundle (index.mjs): name → path from the project root.
   * @default none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

/** Bundling hooks that copy `files` (name → path from the project root) into the bundle's folder. */
function copyAfterBundling(files: Readonly<Record<string, string>>): ICommandHooks {
  for (const name of Object.keys(files)) {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`bundled file name "${name}" must be a plain file name`);
  }
  const quote = (path: string) => (process.platform === 'win32' ? `"${path}"` : `'${path.replace(/'/g, "'\\''")}'`);
  const copy = process.platform === 'win32' ? 'copy' : 'cp';
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    // inputDir is the project root (or its mount when bundling in Docker).
    afterBundling: (inputDir, outputDir) =>
      Object.entries(files).map(([name, source]) => `${copy} ${quote(join(inputDir, source))} ${quote(join(outputDir, name))}`),
  };
}

/**
 * Every Lambda function of the product: one place for runtime, architecture, tracing, logging and bundling, and
 * `bind…` helpers that set an environment variable and its IAM grant together, so neither is ever forgotten.
 */
export class OutreachFunction extends NodejsFunction {
  readonly outreachName: FunctionName;

  constructor(scope: Construct, id: string, props: OutreachFunctionProps) {
    // Our own log group (retention) and role (no AWSLambdaBasicExecutionRole, which may write to any log group).
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the outreach ${props.name} function`,
    });
    super(scope, id, {
      entry: join(props.functionsDir ?? DEFAULT_FUNCTIONS_DIR, props.name, 'handler.ts'),
      handler: 'handler',
      description: props.description ?? `Outreach: ${props.name}`,
      runtime: OUTREACH_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambdaTracing(props.tracing, props.tracedUpstreamOnly),
      logGroup,
      role,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'outreach',
        LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        minify: true,
        sourceMap: true,
        // Error class names are Step Functions error names (ErrorEquals): minification must not rename them.
        keepNames: true,
        mainFields: ['module', 'main'],
        // CommonJS dependencies bundled into an ESM file still call require().
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        externalModules: ['@aws-sdk/*'],
        ...(props.bundledFiles ? { commandHooks: copyAfterBundling(props.bundledFiles) } : {}),
      },
    });
    this.outreachName = props.name;
    logGroup.grantWrite(role);
    if (props.tracing !== 'off') {
      acknowledgeNag(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray tracing (Tracing.ACTIVE or PASS_THROUGH) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
      );
    }
  }

  /** Table name in `envName`; read (or read and write) on the table and on the named indexes only. */
  bindTable(envName: EnvName, table: ITable, access: TableAccess, indexNames: readonly string[] = []): this {
    this.addEnvironment(envName, table.tableName);
    this.addToRolePolicy(
      new PolicyStatement({
        actions: access === 'readWrite' ? [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS] : TABLE_READ_ACTIONS,
        resources: [table.tableArn, ...indexNames.map((indexName) => `${table.tableArn}/index/${indexName}`)],
      }),
    );
    return this;
  }

  /** Secret ARN in `envName` (the value is fetched at runtime, never put in the environment); read on that secret. */
  bindSecret(envName: EnvName, secret: ISecret): this {
    this.addEnvironment(envName, secret.secretArn);
    secret.grantRead(this);
    return this;
  }

  /** `WORKFLOW_ARNS` = JSON {kind: state machine ARN}; states:StartExecution on exactly those state machines. */
  bindWorkflows(workflows: Readonly<Record<string, IStateMachine>>): this {
    const arns = Object.fromEntries(Object.entries(workflows).map(([kind, machine]) => [kind, machine.stateMachineArn]));
    this.addEnvironment(ENV.workflowArns, Stack.of(this).toJsonString(arns));
    for (const machine of Object.values(workflows)) machine.grantStartExecution(this);
    return this;
  }

  /** A plain setting (no permission involved). */
  bindValue(envName: EnvName, value: string): this {
    this.addEnvironment(envName, value);
    return this;
  }
}
