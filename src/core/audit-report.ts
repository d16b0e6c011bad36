/**
 * The three faces of an audit result (issue 16): a text report grouped by file (colour is the caller's
 * business: it passes a painter, or none), the `--json` document `{findings, summary}`, and a SARIF 2.1.0
 * log (OASIS SARIF v2.1.0 §3.13 sarifLog, §3.19 toolComponent with `rules`, §3.27 result) that code
 * scanning services read to show findings on the lines they name.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { escapeControls, RULES, type Finding, type Severity } from './audit-rules.js';
import type { AuditResult } from './audit.js';

/** Paints a severity label or a file name (chalk on a TTY); identity when colour is off. */
export interface Painter {
  severity(s: Severity, text: string): string;
  file(text: string): string;
}

const PLAIN: Painter = { severity: (_s, t) => t, file: (t) => t };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The one-line summary ending every text report. */
export function summaryLine(r: AuditResult): string {
  const s = r.summary;
  const total = s.error + s.warning + s.note;
  const what = total === 0 ? 'no findings' : `${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${plural(s.note, 'note')}`;
  return `audited ${plural(s.files, 'file')}, ${plural(s.keys, 'key')}: ${what}`;
}

/**
 * The text report: for each file with findings, its name, then one line per finding
 * `  LINE  SEVERITY  RULE  MESSAGE` (`-` for a whole-file finding); a summary line last.
 */
export function textReport(r: AuditResult, paint: Painter = PLAIN): string {
  let out = '';
  let current: string | null = null;
  for (const f of r.findings) {
    if (f.file !== current) {
      if (current !== null) out += '\n';
      out += paint.file(escapeControls(f.file)) + '\n';
      current = f.file;
    }
    const line = f.line === null ? '-' : String(f.line);
    out += `  ${line.padStart(5)}  ${paint.severity(f.severity, f.severity.padEnd(7))}  ${f.rule}  ${f.message}\n`;
  }
  if (r.findings.length) out += '\n';
  return out + summaryLine(r) + '\n';
}

/** The `--json` document: findings as `{rule, severity, file, line, message}` and the counts. */
export function jsonReport(r: AuditResult, failOn: string, failed: boolean): object {
  return {
    findings: r.findings.map((f) => ({ rule: f.rule, severity: f.severity, file: f.file, line: f.line, message: f.message })),
    summary: { ...r.summary, findings: r.findings.length, failOn, failed },
  };
}

/** A file name as a SARIF artifact URI (§3.4.3): relative paths stay relative (to the run's folder). */
export function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href;
  return relative('.', file).split(sep).map(encodeURIComponent).join('/');
}

function sarifResult(f: Finding, index: Map<string, number>): object {
  const physical: Record<string, unknown> = { artifactLocation: { uri: artifactUri(f.file), uriBaseId: isAbsolute(f.file) ? undefined : '%SRCROOT%' } };
  if (f.line !== null) physical.region = { startLine: f.line };
  return {
    ruleId: f.rule,
    ruleIndex: index.get(f.rule),
    level: f.severity,
    message: { text: f.message },
    locations: [{ physicalLocation: physical }],
  };
}

/** The SARIF 2.1.0 log: one run, every rule in `tool.driver.rules` (so viewers can explain them). */
export function sarifReport(r: AuditResult, version: string): object {
  const index = new Map<string, number>();
  const rules = [...RULES.values()].map((rule, i) => {
    index.set(rule.id, i);
    return {
      id: rule.id,
      name: rule.id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
      shortDescription: { text: rule.summary },
      fullDescription: { text: rule.rationale },
      help: { text: rule.rationale },
      defaultConfiguration: { level: rule.severity },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'sshkit audit', version, semanticVersion: version, rules } },
        results: r.findings.map((f) => sarifResult(f, index)),
      },
    ],
  };
}
