import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../core/contracts/csv.ts';

describe('parseCsv', () => {
  it('splits plain fields and keeps empty ones', () => {
    expect(parseCsv('a,b,c\n1,,3\n')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '', '3'] },
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, and counts lines from where a record starts', () => {
    const text = 'name,note\r\n"Lovelace, Ada","said ""hello"""\r\n"multi\nline",x\r\nlast,"trailing"';

    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['name', 'note'] },
      { line: 2, fields: ['Lovelace, Ada', 'said "hello"'] },
      { line: 3, fields: ['multi\nline', 'x'] },
      { line: 5, fields: ['last', 'trailing'] },
    ]);
  });

  it('drops a byte order mark and skips blank lines', () => {
    expect(parseCsv('\uFEFFa,b\n\n1,2\r\n\r\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', '2'] },
    ]);
  });

  it('keeps an empty last field after a trailing comma', () => {
    expect(parseCsv('a,')).toEqual([{ line: 1, fields: ['a', ''] }]);
  });

  it('reports a stray quote or text after a closing quote on its line and goes on with the next', () => {
    const text = 'a,b\nab"c,d\n"x"y,z\nok,1\n';

    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: 'field 1: a quote inside an unquoted field (quote the whole field and write the quote as "")' },
      { line: 3, error: 'field 1: text after the closing quote (write a quote inside a quoted field as "")' },
      { line: 4, fields: ['ok', '1'] },
    ]);
  });

  it('reports a quoted field that is never closed', () => {
    expect(parseCsv('a,b\n1,"open\n2,3\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, error: 'field 2: the quoted field is never closed (write a quote inside a quoted field as "")' },
    ]);
  });
});
