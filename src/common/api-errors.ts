// The one failure a transport may pass on to its client word for word: the request itself was
// wrong (a field out of bounds, a session that does not exist, an image that is not ready). Any
// other error thrown while serving a request is the program's, not the client's: it is logged
// with its stack and the client is told only that it happened (src/common/api-serve.ts).

export class RequestError extends Error {
  override readonly name = 'RequestError';
}
