/**
 * Structured logs: one JSON line per event in Cloud Logging's format, so that `severity`
 * and `message` are read by the agent and everything else lands in jsonPayload.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

const rank: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` (job_id, model) to every line. */
  child(fields: LogFields): Logger;
}

/** Writes a line; stderr by default so that a CLI's stdout stays the result document. */
export type LineSink = (line: string) => void;

const stderrSink: LineSink = (line) => process.stderr.write(line + '\n');

/** Values that must never be logged, whatever field they arrive in (API keys once loaded). */
const redactions = new Set<string>();

/** Registers a secret value so that no log line ever prints it. */
export function redactSecret(value: string): void {
  if (value.length >= 4) redactions.add(value);
}

/** Replaces every registered secret in `text` with `[redacted]`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of redactions) out = out.split(secret).join('[redacted]');
  return out;
}

export function createLogger(level: Severity = 'INFO', sink: LineSink = stderrSink, base: LogFields = {}): Logger {
  const write = (severity: Severity, message: string, fields?: LogFields) => {
    if (rank[severity] < rank[level]) return;
    sink(logLine(severity, message, { ...base, ...fields }));
  };
  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }),
  };
}

/**
 * One log entry as a JSON line (secrets redacted), for a line that another component
 * prints: the functions-framework prints a thrown error's `stack`.
 */
export function logLine(severity: Severity, message: string, fields: LogFields = {}): string {
  return redact(JSON.stringify({ severity, message, time: new Date().toISOString(), ...fields }, errorReplacer));
}

/** An error as a log field: its name and message, and its causes' (a network error's ECONNREFUSED), never a stack. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const cause = (value as { cause?: unknown }).cause;
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}), ...(cause !== undefined ? { cause } : {}) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
