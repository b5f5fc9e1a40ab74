import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ALL_WORKFLOWS } from '../../core/topology.ts';
import { KNOWN_PLACEHOLDERS, placeholdersIn, scopesOf, substitute, workflowFiles, type Json, type State } from './support.ts';

interface AslValidation {
  isValid: boolean;
  errors: unknown[];
  errorsText(separator?: string): string;
}
type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => AslValidation;

// asl-validator is CommonJS without type declarations; its module value is the validator function.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;
// JSONPath mode: path expressions and Resource ARNs are checked. The validator writes QueryLanguage into the states
// it is given, so it always gets a copy.
const validate = (definition: unknown) => aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });

type Definition = { StartAt: string; States: Record<string, State>; TimeoutSeconds?: Json; QueryLanguage?: Json };

const files = workflowFiles();
const workflows = files.map(({ file, text }) => ({
  file,
  text,
  definition: JSON.parse(substitute(text)) as Definition,
}));

/** SES v2 errors that mean "not sent, slow down": the only ones a send may retry without risking a second email. */
const SES_THROTTLING_ERRORS = ['SesV2.TooManyRequestsException', 'SesV2.LimitExceededException', 'SesV2.ThrottlingException'];

const statesOf = (definition: Definition) =>
  scopesOf(definition).flatMap((scope) => Object.entries(scope.States).map(([name, state]) => ({ scope, name, state })));

const retriersOf = (state: State) => (Array.isArray(state.Retry) ? (state.Retry as Array<{ ErrorEquals?: string[] }>) : []);
const catchersOf = (state: State) => (Array.isArray(state.Catch) ? (state.Catch as Array<{ ErrorEquals?: string[]; Next?: string }>) : []);

function transitionsOf(state: State): string[] {
  const targets: string[] = [];
  if (typeof state.Next === 'string') targets.push(state.Next);
  if (typeof state.Default === 'string') targets.push(state.Default);
  if (Array.isArray(state.Choices)) {
    for (const choice of state.Choices as Array<{ Next?: string }>) if (choice.Next !== undefined) targets.push(choice.Next);
  }
  for (const catcher of catchersOf(state)) if (catcher.Next !== undefined) targets.push(catcher.Next);
  return targets;
}

function stringsIn(value: Json): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return [...Object.keys(value), ...Object.values(value).flatMap(stringsIn)];
  return [];
}

describe('workflows/', () => {
  it('holds one definition per workflow in core/topology.ts', () => {
    // Prepare
    const expected = [...new Set(Object.values(ALL_WORKFLOWS))].map((name) => `${name}.asl.json`).sort();

    // Act
    const found = files.map((f) => f.file);

    // Assess
    expect(found).toEqual(expected);
  });

  it('uses exactly the placeholders CDK substitutes (the functions and the bus), each at least once', () => {
    // Prepare
    const known = [...KNOWN_PLACEHOLDERS].sort();

    // Act
    const used = [...new Set(files.flatMap((f) => placeholdersIn(f.text)))].sort();

    // Assess
    expect(used).toEqual(known);
  });

  it('asl-validator rejects a definition with a dangling transition (the check below can fail)', () => {
    // Prepare
    const [first] = workflows;
    if (!first) throw new Error('no workflow definitions found');
    const broken = structuredClone(first.definition);
    const start = broken.States[broken.StartAt];
    if (!start) throw new Error('StartAt names no state');
    start.Next = 'NoSuchState';

    // Act
    const result = validate(broken);

    // Assess
    expect(result.isValid).toBe(false);
    expect(result.errorsText()).toContain('NoSuchState');
  });
});

describe.each(workflows)('workflows/$file', ({ text, definition }) => {
  it('passes asl-validator (JSONPath, path and ARN checks) once its placeholders are substituted', () => {
    // Act
    const result = validate(definition);

    // Assess
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses only known placeholders and keeps no ${ after substitution', () => {
    // Act
    const unknown = placeholdersIn(text).filter((p) => !KNOWN_PLACEHOLDERS.includes(p));

    // Assess
    expect(unknown).toEqual([]);
    expect(substitute(text)).not.toContain('${');
  });

  it('gives every Task state, nested ones included, a non-empty Retry and a Catch', () => {
    // Act
    const tasks = statesOf(definition).filter(({ state }) => state.Type === 'Task');
    const lacking = tasks
      .filter(({ state }) => retriersOf(state).length === 0 || catchersOf(state).length === 0)
      .map(({ scope, name }) => `${scope.where}/${name}`);

    // Assess
    expect(tasks.length).toBeGreaterThan(0);
    expect(lacking).toEqual([]);
    for (const { state } of tasks) {
      for (const rule of [...retriersOf(state), ...catchersOf(state)]) expect(rule.ErrorEquals?.length).toBeGreaterThan(0);
    }
  });

  it('only transitions (Next, Default, Choices, Catch) to states of the same scope', () => {
    // Act
    const dangling = scopesOf(definition).flatMap((scope) => [
      ...(scope.StartAt in scope.States ? [] : [`${scope.where} StartAt → ${scope.StartAt}`]),
      ...Object.entries(scope.States).flatMap(([name, state]) =>
        transitionsOf(state)
          .filter((target) => !(target in scope.States))
          .map((target) => `${scope.where}/${name} → ${target}`),
      ),
    ]);

    // Assess
    expect(dangling).toEqual([]);
  });

  it('is written in JSONPath: no JSONata query language, no Arguments / Output / Assign, no {% %} expressions', () => {
    // Act
    const languages = [definition.QueryLanguage, ...statesOf(definition).map(({ state }) => state.QueryLanguage)].filter(
      (language) => language !== undefined,
    );
    const jsonataFields = statesOf(definition).flatMap(({ scope, name, state }) =>
      ['Arguments', 'Output', 'Assign'].filter((field) => field in state).map((field) => `${scope.where}/${name}.${field}`),
    );
    const jsonataExpressions = stringsIn(definition as unknown as Json).filter((s) => s.includes('{%'));

    // Assess
    expect(languages.every((language) => language === 'JSONPath')).toBe(true);
    expect(jsonataFields).toEqual([]);
    expect(jsonataExpressions).toEqual([]);
  });

  it('sets a top-level TimeoutSeconds', () => {
    // Assess
    expect(Number.isInteger(definition.TimeoutSeconds)).toBe(true);
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  it('retries an SES send only on SES throttling errors, never on a wildcard', () => {
    // Act
    const sends = statesOf(definition).filter(({ state }) => state.Resource === 'arn:aws:states:::aws-sdk:sesv2:sendEmail');
    const retried = sends.flatMap(({ state }) => retriersOf(state).flatMap((retrier) => retrier.ErrorEquals ?? []));

    // Assess
    for (const { state } of sends) expect(retriersOf(state).length).toBeGreaterThan(0);
    expect(retried.filter((error) => !SES_THROTTLING_ERRORS.includes(error))).toEqual([]);
  });
});

describe('workflows/check-in.asl.json', () => {
  it('sends through the send-email function in a state named SendEmail, never through the SES integration (which cannot claim)', () => {
    // Prepare
    const checkIn = workflows.find((w) => w.file === 'check-in.asl.json');

    // Act
    const sendEmail = checkIn?.definition.States.SendEmail;
    const sdkSends = Object.values(checkIn?.definition.States ?? {}).filter((state) => String(state.Resource).includes('sesv2'));

    // Assess
    expect(sendEmail?.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(JSON.stringify(sendEmail?.Parameters)).toContain(':function:outreach-send-email');
    expect(sdkSends).toEqual([]);
  });
});
