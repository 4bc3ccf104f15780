// CSV as spreadsheets read it (RFC 4180): the one place usage exports are written, for users and admins alike.

export type Cell = string | number | null;

// A cell a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, and a leading tab or carriage return.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell: text that could start a formula gets a leading apostrophe (shown as text by Excel, LibreOffice and
 * Google Sheets), and a cell with a comma, quote or line break is quoted with its quotes doubled. Numbers are written
 * as they are: ours are never negative, and a number is data, not a formula.
 */
export function csvCell(value: Cell): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and the rows, each line ended by CRLF as RFC 4180 asks. */
export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
