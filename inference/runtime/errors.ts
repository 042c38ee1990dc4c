/** A model package that cannot be served; the message names the file and the problem. */
export class ModelPackageError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ModelPackageError';
  }
}
