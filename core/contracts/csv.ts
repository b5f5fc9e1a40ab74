/**
 * A small RFC 4180 CSV reader: comma-separated, CRLF or LF line ends, fields optionally in double quotes, a quote
 * inside a quoted field written twice, commas and line breaks allowed inside quotes. A UTF-8 BOM is dropped and
 * blank lines are skipped. A malformed record is reported (with the line it starts on) and reading goes on with the
 * next line, so one bad row does not hide the others.
 */

export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  const atLineEnd = () => text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n');
  const consumeLineEnd = () => {
    if (text[i] === '\r') i += 1;
    if (text[i] === '\n') {
      i += 1;
      line += 1;
    }
  };

  while (i < n) {
    if (atLineEnd()) {
      consumeLineEnd();
      continue;
    }
    const startLine = line;
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      const column = fields.length + 1;
      let field = '';
      if (text[i] === '"') {
        i += 1;
        let closed = false;
        while (i < n) {
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i += 1;
            closed = true;
            break;
          }
          if (text[i] === '\n') line += 1;
          field += text[i];
          i += 1;
        }
        if (!closed) {
          error = `field ${column}: the quoted field is never closed (write a quote inside a quoted field as "")`;
        } else if (i < n && text[i] !== ',' && !atLineEnd()) {
          error = `field ${column}: text after the closing quote (write a quote inside a quoted field as "")`;
        }
      } else {
        while (i < n && text[i] !== ',' && !atLineEnd()) {
          if (text[i] === '"' && error === undefined) {
            error = `field ${column}: a quote inside an unquoted field (quote the whole field and write the quote as "")`;
          }
          field += text[i];
          i += 1;
        }
      }
      if (error !== undefined) {
        while (i < n && !atLineEnd()) i += 1;
        consumeLineEnd();
        break;
      }
      fields.push(field);
      if (text[i] === ',') {
        i += 1;
        continue;
      }
      consumeLineEnd();
      break;
    }
    records.push(error !== undefined ? { line: startLine, error } : { line: startLine, fields });
  }
  return records;
}
