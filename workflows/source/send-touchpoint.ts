/**
 * The one send workflow: eligibility → render → send → record the outcome, for one due touchpoint (an Express
 * workflow: at least once, so the send step claims the touchpoint before it calls SES). Check-ins,
 * surveys and renewal reminders are this definition with their own comments, a few extra payload fields and the name
 * of their failure state. `npm run workflows` writes workflows/<kind>.asl.json from it; a test fails when a committed
 * file differs from what this module generates.
 */
import { FUNCTION_RETRY } from './retry-policies.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** What makes one touchpoint kind's send workflow its own. */
export interface SendWorkflowVariant {
  /** The workflow's file name, without `.asl.json`. */
  readonly file: string;
  /** The definition's top-level Comment. */
  readonly comment: string;
  /** What the eligibility check covers for this kind. */
  readonly eligibilityComment: string;
  /** The Comment of the render step, when this kind's rendering needs one. */
  readonly renderComment?: string;
  /** Fields the render step receives besides the touchpoint and the message. */
  readonly renderExtra?: JsonObject;
  /** The Comment of the step that records SENT, when recording does more than that. */
  readonly recordSentComment?: string;
  /** Fields the SENT record receives besides the touchpoint, generation, time and message id. */
  readonly recordSentExtra?: JsonObject;
  /** Fields the send step receives besides the touchpoint, generation, execution, time and the rendered email. */
  readonly sendExtra?: JsonObject;
  /** The Fail state a touchpoint recorded FAILED ends in (also its error name). */
  readonly failState: string;
}

const TASK_TIMEOUT_SECONDS = 30;

/** A catcher that keeps the error at `$.error` for the step that records it. */
const catcher = (errors: readonly string[], next: string): Json => ({ ErrorEquals: [...errors], ResultPath: '$.error', Next: next });
const catchAll = (next: string): Json[] => [catcher(['States.ALL'], next)];

const copy = <T>(value: T): Json => structuredClone(value) as unknown as Json;

/** A Task that invokes one of our functions with a payload, keeping its Payload at `resultPath`. */
function functionTask(options: {
  comment?: string;
  functionPlaceholder: string;
  payload: JsonObject;
  resultPath: string;
  onError: string;
  next: string;
}): JsonObject {
  return {
    ...(options.comment === undefined ? {} : { Comment: options.comment }),
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: `\${${options.functionPlaceholder}}`, Payload: options.payload },
    ResultSelector: { 'Payload.$': '$.Payload' },
    ResultPath: options.resultPath,
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
    Retry: copy(FUNCTION_RETRY),
    Catch: catchAll(options.onError),
    Next: options.next,
  };
}

const touchpointAndGeneration: JsonObject = { 'touchpointId.$': '$.touchpointId', 'generation.$': '$.generation' };

/** A step that records an outcome through record-outcome; a failure to record ends in OutcomeNotRecorded. */
function recordOutcome(outcome: string, fields: JsonObject, next: string, comment?: string): JsonObject {
  return functionTask({
    ...(comment === undefined ? {} : { comment }),
    functionPlaceholder: 'RecordOutcomeFunctionArn',
    payload: { ...touchpointAndGeneration, 'now.$': '$$.State.EnteredTime', outcome, ...fields },
    resultPath: '$.outcome',
    onError: 'OutcomeNotRecorded',
    next,
  });
}

const decisions: Array<[decision: string, next: string]> = [
  ['SEND', 'RenderEmail'],
  ['RESCHEDULE', 'RecordRescheduled'],
  ['SKIP', 'RecordSkipped'],
  ['STALE', 'Done'],
];

const sendResults: Array<[result: string, next: string]> = [
  ['SENT', 'RecordSent'],
  ['NOT_SENT', 'RecordDeferred'],
  ['REJECTED', 'RecordRejected'],
  ['AMBIGUOUS', 'RecordUnconfirmed'],
  ['STALE', 'Done'],
];

/** The ASL definition of one kind's send workflow. */
export function sendWorkflow(variant: SendWorkflowVariant): JsonObject {
  return {
    Comment: variant.comment,
    StartAt: 'CheckEligibility',
    TimeoutSeconds: 300,
    States: {
      CheckEligibility: functionTask({
        comment: variant.eligibilityComment,
        functionPlaceholder: 'CheckEligibilityFunctionArn',
        payload: { ...touchpointAndGeneration, 'now.$': '$$.Execution.StartTime' },
        resultPath: '$.check',
        onError: 'RecordFailure',
        next: 'Decide',
      }),
      Decide: {
        Type: 'Choice',
        Choices: decisions.map(([decision, next]) => ({ Variable: '$.check.Payload.decision', StringEquals: decision, Next: next })),
        Default: 'UnknownDecision',
      },
      RenderEmail: functionTask({
        ...(variant.renderComment === undefined ? {} : { comment: variant.renderComment }),
        functionPlaceholder: 'RenderEmailFunctionArn',
        payload: { 'touchpointId.$': '$.touchpointId', 'message.$': '$.check.Payload.message', ...variant.renderExtra },
        resultPath: '$.render',
        onError: 'RecordFailure',
        next: 'SendEmail',
      }),
      SendEmail: functionTask({
        comment:
          'Claims the touchpoint for this attempt (a second run of this execution sends nothing), calls SES once, and says what the call came to; a crash here may have sent, so it is recorded UNCONFIRMED',
        functionPlaceholder: 'SendEmailFunctionArn',
        payload: {
          ...touchpointAndGeneration,
          'executionId.$': '$$.Execution.Id',
          'now.$': '$$.State.EnteredTime',
          'email.$': '$.render.Payload',
          ...variant.sendExtra,
        },
        resultPath: '$.sent',
        onError: 'RecordSendStepError',
        next: 'SendResult',
      }),
      SendResult: {
        Type: 'Choice',
        Choices: sendResults.map(([result, next]) => ({ Variable: '$.sent.Payload.result', StringEquals: result, Next: next })),
        Default: 'UnknownDecision',
      },
      RecordSent: recordOutcome('SENT', { 'messageId.$': '$.sent.Payload.messageId', ...variant.recordSentExtra }, 'Done', variant.recordSentComment),
      RecordRescheduled: recordOutcome(
        'RESCHEDULED',
        { 'reason.$': '$.check.Payload.reason', 'nextDueAt.$': '$.check.Payload.nextDueAt' },
        'Done',
      ),
      RecordSkipped: recordOutcome('SKIPPED', { 'reason.$': '$.check.Payload.reason' }, 'Done'),
      RecordDeferred: recordOutcome(
        'DEFERRED',
        { 'error.$': '$.sent.Payload.error' },
        'Done',
        'Throttled, or the request never reached SES: back to PENDING with backoff, or FAILED once the deferral budget is spent',
      ),
      RecordRejected: recordOutcome('FAILED', { 'error.$': '$.sent.Payload.error' }, variant.failState, 'SES refused this message for good'),
      RecordUnconfirmed: recordOutcome(
        'UNCONFIRMED',
        { 'error.$': '$.sent.Payload.error' },
        'Done',
        "The request may have reached SES: SES's Send event settles it, else dispatch sends it again after the deadline",
      ),
      RecordSendStepError: recordOutcome(
        'UNCONFIRMED',
        { 'error.$': '$.error' },
        'Done',
        'The send step failed: UNCONFIRMED if it had claimed the send (it may have reached SES), FAILED if it had not',
      ),
      RecordFailure: recordOutcome('FAILED', { 'error.$': '$.error' }, variant.failState),
      Done: { Type: 'Succeed' },
      UnknownDecision: {
        Type: 'Fail',
        Error: 'UnknownDecision',
        Cause: 'check-eligibility or send-email returned a result this workflow does not know',
      },
      [variant.failState]: { Type: 'Fail', Error: variant.failState, Cause: 'the touchpoint was recorded as FAILED' },
      OutcomeNotRecorded: {
        Type: 'Fail',
        Error: 'OutcomeNotRecorded',
        Cause: 'the outcome could not be recorded; dispatch-due marks the touchpoint when its lease ends',
      },
    },
  };
}

const LONG_WAITS = 'Long waits live in the touchpoints table, never here.';

/** Every touchpoint kind's send workflow. */
export const SEND_WORKFLOWS: readonly SendWorkflowVariant[] = [
  {
    file: 'check-in',
    comment: `Post-purchase check-in: one short Express execution per due touchpoint (started by dispatch-due; at least once, so the send step claims the touchpoint). ${LONG_WAITS}`,
    eligibilityComment: "Consent, suppression, frequency cap and quiet hours in the recipient's zone",
    failState: 'CheckInFailed',
  },
  {
    file: 'survey',
    comment:
      "Satisfaction survey (NPS, CSAT or CES): one short Express execution per due survey touchpoint or reminder (started by dispatch-due). Eligibility adds the re-survey throttle and, for a reminder, 'not answered yet'; the render step signs one answer link per score; recording the send plans the one reminder.",
    eligibilityComment:
      'Consent, suppression, frequency caps, the re-survey throttle (one survey per customer per window), a reminder only while unanswered, quiet hours and send window',
    renderComment: 'Template plus the scale: one signed one-click link per score (HTML and text), expiring linkValidFor after the start',
    renderExtra: { 'now.$': '$$.Execution.StartTime' },
    recordSentComment: 'Records SENT and plans the reminder (a survey, not a reminder, with reminderAfter)',
    recordSentExtra: { 'survey.$': '$.check.Payload.message.survey' },
    sendExtra: { 'survey.$': '$.check.Payload.message.survey' },
    failState: 'SurveyFailed',
  },
  {
    file: 'renewal-reminder',
    comment:
      'Contract-renewal reminder: one short Express execution per due reminder (planned by the daily renewal sweep or a contract event, one per contract × offset; started by dispatch-due).',
    eligibilityComment:
      'The contract still runs to the end date reminded of (not renewed, cancelled or moved), consent, suppression, frequency caps, quiet hours and send window',
    renderComment: "Plan, end date, value, days left and the campaign's renewal link, in the customer's locale",
    failState: 'ReminderFailed',
  },
];

/** The committed text of a generated definition: two-space JSON and a final newline. */
export const definitionText = (definition: JsonObject): string => `${JSON.stringify(definition, null, 2)}\n`;
