/** An error in the shape an AWS JSON-protocol service answers with: `{"__type": code, "message": …}` and a status. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}
