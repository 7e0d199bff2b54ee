// The errors of the core, shared by every layer (store, capabilities, CLI, server, extension).
// Each says what the user can act on: the file, the field, the limit, the fix.

export class StoreError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The store was written by a newer version of the workbench; it is left untouched. */
export class StoreVersionError extends StoreError {}

/** A store file cannot be read. The file is kept as it is. */
export class StoreCorruptError extends StoreError {}

/** A write was rejected by a rule (a changed param, a missing run...). Nothing was written. */
export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** A named thing does not exist (MLflow's RESOURCE_DOES_NOT_EXIST). */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A thing with that identity exists already (MLflow's RESOURCE_ALREADY_EXISTS). */
export class AlreadyExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyExistsError';
  }
}

/** A filter or order_by entry that cannot be parsed; the message points at the culprit. */
export class FilterError extends Error {
  /**
   * @param position 0-based offset of the offending token in `text`.
   * @param token the offending token's text ('' at the end of the input).
   * @param reason what was expected or what is allowed, without the location.
   */
  constructor(
    readonly position: number,
    readonly token: string,
    readonly reason: string,
    readonly text: string,
    what: 'filter' | 'order_by' = 'filter',
  ) {
    super(formatMessage(position, token, reason, text, what));
    this.name = 'FilterError';
  }
}

function formatMessage(
  position: number,
  token: string,
  reason: string,
  text: string,
  what: string,
): string {
  const near =
    token === ''
      ? ` (end of ${what})`
      : ` near '${token.length > 40 ? `${token.slice(0, 40)}…` : token}'`;
  // Tabs and newlines would push the caret off its column, so the echo shows them as spaces.
  const shown = text.replace(/\s/g, ' ');
  return `Bad ${what} at column ${position + 1}${near}: ${reason}\n${shown}\n${' '.repeat(position)}^`;
}
