// Errors the store raises. Each names the file involved and what the user can do.

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
