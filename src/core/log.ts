// The logging interface core code writes to. The extension binds it to its
// LogOutputChannel, the CLI to stderr, tests to a recorder.

export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error): void;
}

export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A logger that keeps every line, for tests and for reporting what a repair did. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string }[] = [];
  trace(message: string): void {
    this.lines.push({ level: 'trace', message });
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string | Error): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
}
